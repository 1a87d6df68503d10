"""gunicorn in production: `gunicorn -c gunicorn.conf.py electionsite.wsgi`.

Every value can be changed from the environment; README.md, "Deploying to production", lists them.
"""

import gc
import multiprocessing
import os

# Behind a reverse proxy on the same machine by default; 0.0.0.0:8000 when the proxy is elsewhere.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: one request at a time each, 2 × cores + 1 of them, at most 12 (each holds a database
# connection: keep workers × app servers below PostgreSQL's max_connections).
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests: a slow leak never grows for long.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# Load Django once in the master, before forking: less memory, and a broken release fails at start.
# A new release therefore needs a restart of gunicorn, not a HUP.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in {"1", "true", "yes", "on"}
# The proxies whose X-Forwarded-* headers gunicorn believes (comma-separated addresses, or *).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# No control socket in the home folder: systemd (or the container) starts and stops gunicorn, and two
# instances on one machine would fight over the same socket.
control_socket_disable = True

# Access and error logs on standard output, in the same format as Django's (DJANGO_LOG_FORMAT).
accesslog = "-"
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
_debug = os.environ.get("DJANGO_DEBUG", "false").lower() in {"1", "true", "yes", "on"}
_format = os.environ.get("DJANGO_LOG_FORMAT", "plain" if _debug else "json")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "electionsite.logs.JsonFormatter"},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": _format},
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
}


def pre_fork(server, worker):
    # What loading the app made (preload_app) is moved out of the garbage collector's sight before
    # each worker is forked: a worker's full collections then walk only what it made itself, and the
    # memory the workers share with the master stays shared.
    gc.freeze()
