"""A bounded load test: gunicorn on 127.0.0.1, the public browsing it, and editors saving at the same time.

    .venv/bin/python bench/loadtest.py                      # 60 s at concurrency 32, demo data in a temporary SQLite
    .venv/bin/python bench/loadtest.py --duration 10        # the quick run
    .venv/bin/python bench/loadtest.py --database-url postgres://user@127.0.0.1:5432/loadtest --synthetic 100000

It prepares the database (migrate, the demo data, optionally synthetic data, a publisher account of its
own), collects the static files, starts gunicorn with gunicorn.conf.py (2 workers), and runs a mix of
clients for the given time: browsing pages, filtering, searching, downloading exports, reading the feed,
and editors who open excerpts' change forms in the admin and save them. Then it stops gunicorn, reports
requests per second, latency percentiles and errors, and checks that every save the server confirmed is
in the database, with its history. It only ever talks to 127.0.0.1 and stops by itself. Standard library
only, besides the project's own Django. Exit status 1 if there was any error or a save is missing.
"""

import argparse
import html.parser
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # never anything else
MAX_DURATION = 600
MAX_CONCURRENCY = 256
TIMEOUT = 30
# (kind, weight) of what a visitor's thread does next; editors are threads of their own.
MIX = [("browse", 45), ("filter", 20), ("search", 20), ("export", 7), ("feed", 8)]
WORDS = ["election", "observers", "voting", "counting", "campaign", "media", "commitments", "registration",
         "irregularities", "procedures", "considerable", "well", "organised", "professional", "freedoms"]  # fmt: skip


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="Seconds of load (default 60, at most 600).")
    parser.add_argument("--concurrency", type=int, default=32, help="Client threads, editors included (default 32).")
    parser.add_argument("--editors", type=int, default=4, help="How many of them are editors saving (default 4).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2).")
    parser.add_argument("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one).")
    parser.add_argument("--database-url", help="A database to use (it is written to); default: a new SQLite file.")
    parser.add_argument("--synthetic", type=int, default=0, help="Add this many synthetic excerpts first.")
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    options = parser.parse_args()
    if not 0 < options.duration <= MAX_DURATION:
        parser.error(f"--duration is between 0 and {MAX_DURATION} seconds")
    if not 0 < options.concurrency <= MAX_CONCURRENCY or not 0 <= options.editors < options.concurrency:
        parser.error(f"--concurrency is 1 to {MAX_CONCURRENCY}, and --editors fewer than that")
    return options


# Setting up ------------------------------------------------------------------------------------------


def environment(options, workdir):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="electionsite.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_FORMAT="json",
        DATABASE_URL=options.database_url or f"sqlite:///{workdir / 'loadtest.sqlite3'}",
        GUNICORN_BIND=f"{HOST}:{options.port}",
        GUNICORN_WORKERS=str(options.workers),
    )
    return env


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)  # noqa: S603


def prepare(options, env):
    print("Preparing the database and the static files …", flush=True)
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "load_demo", "--if-empty")
    if options.synthetic:
        manage(env, "generate_synthetic", "--excerpts", str(options.synthetic), "--replace")
    manage(env, "collectstatic", "--no-input", "-v0")
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DATABASE_URL")})
    os.environ.update(DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS=HOST, DJANGO_LOG_FORMAT="plain")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User

    from observers.models import Election, Excerpt, Mission, Organisation, Topic

    password = secrets.token_urlsafe(24)
    username = f"loadtest-publisher-{secrets.token_hex(4)}"
    user = User.objects.create_user(username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name="Publisher"))
    public = Excerpt.objects.published()
    ids = list(public.values_list("pk", flat=True)[:5000])
    if not ids:
        raise SystemExit("The database has no published excerpt to browse.")
    return {
        "username": username,
        "password": password,
        "excerpts": ids,
        "editable": ids[: max(options.editors * 25, 1)],
        "missions": list(Mission.objects.published().values_list("pk", flat=True)[:2000]),
        "elections": list(Election.objects.values_list("slug", flat=True)[:2000]),
        "organisations": list(Organisation.objects.values_list("slug", flat=True)[:500]),
        "topics": list(Topic.objects.values_list("slug", flat=True)),
        "countries": sorted({str(c) for c in Election.objects.values_list("country", flat=True)[:2000]}),
    }


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(env, workdir):
    log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 - closed when gunicorn stops
    process = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "electionsite.wsgi"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start; see {workdir / 'gunicorn.log'}")
        try:
            if request("GET", "/healthz")[0] == 200:
                return process, log
        except OSError:
            pass
        time.sleep(0.2)
    stop_gunicorn(process, log)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop_gunicorn(process, log):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.close()


# The client ------------------------------------------------------------------------------------------

PORT = None


def request(method, path, body=None, cookies=None, headers=None):
    """One request on a new connection (gunicorn's sync workers close each one): (status, headers, body)."""
    connection = http.client.HTTPConnection(HOST, PORT, timeout=TIMEOUT)
    try:
        sent = {"Host": HOST, "User-Agent": "loadtest"} | (headers or {})
        if cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        if body is not None:
            body = urllib.parse.urlencode(body, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        content = response.read()
        if cookies is not None:
            # By hand: the cookies are Secure (production settings) and this is plain HTTP on 127.0.0.1.
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, content
    finally:
        connection.close()


class FormReader(html.parser.HTMLParser):
    """The fields of the admin's change form, as a browser would send them back."""

    def __init__(self):
        super().__init__()
        self.fields, self.in_form, self.select, self.textarea = [], False, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id", "").endswith("_form"):
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((attrs["name"], attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self.select = attrs.get("name")
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields.append((self.select, attrs.get("value", "")))
        elif tag == "textarea":
            self.textarea = [attrs.get("name"), ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea[0], self.textarea[1].removeprefix("\n")))
            self.textarea = None


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.errors = Counter()
        self.error_examples = []
        self.saves = {}  # excerpt id -> the last value the server confirmed
        self.saved = 0
        self.deadline = float("inf")
        self.in_time = 0  # requests answered before the deadline: the throughput

    def record(self, kind, started, status, path):
        now = time.monotonic()
        with self.lock:
            self.latencies[kind].append(now - started)
            self.in_time += now <= self.deadline
            if status is None or status >= 400:
                self.errors[(kind, status)] += 1
                if len(self.error_examples) < 10:
                    self.error_examples.append((kind, status, path))


def timed(results, kind, method, path, **kwargs):
    started = time.monotonic()
    try:
        status, headers, content = request(method, path, **kwargs)
    except (OSError, http.client.HTTPException) as error:
        results.record(kind, started, None, f"{path}: {error!r}")
        return None, None, b""
    results.record(kind, started, status, path)
    return status, headers, content


def visitor(stop, results, data, seed):
    rng = random.Random(seed)  # noqa: S311 - a traffic mix, not a secret
    kinds, weights = zip(*MIX, strict=True)
    lists = ["elections", "organisations", "missions", "documents", "excerpts", "characterisations"]
    while not stop.is_set():
        kind = rng.choices(kinds, weights)[0]
        if kind == "browse":
            path = rng.choice(
                [
                    "/",
                    f"/{rng.choice(lists)}/",
                    f"/excerpts/?page={rng.randint(1, 5)}",
                    f"/excerpts/{rng.choice(data['excerpts'])}/",
                    f"/excerpts/{rng.choice(data['excerpts'])}/",
                    f"/missions/{rng.choice(data['missions'])}/" if data["missions"] else "/missions/",
                    f"/elections/{rng.choice(data['elections'])}/",
                    f"/organisations/{rng.choice(data['organisations'])}/",
                    f"/excerpts/{rng.choice(data['excerpts'])}/cite.bib",
                    "/methodology/",
                ]
            )
        elif kind == "filter":
            query = {
                "stance": rng.choice(["", "critical", "positive", "mixed", "neutral"]),
                "country": rng.choice(["", *data["countries"]]),
                "organisation": rng.choice(["", "", *data["organisations"]]),
                "topic": rng.choice(["", "", *data["topics"]]),
                "year_from": rng.choice(["", "2010", "2016", "2020"]),
            }
            path = (
                f"/{rng.choice(['excerpts', 'excerpts', 'missions', 'characterisations'])}/?"
                + urllib.parse.urlencode({name: value for name, value in query.items() if value})
            )
        elif kind == "search":
            words = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
            sort = rng.choice(["", "&sort=relevance"])
            path = "/excerpts/?" + urllib.parse.urlencode({"q": words}) + sort
        elif kind == "export":
            query = urllib.parse.urlencode({"country": rng.choice(data["countries"]), "stance": "critical"})
            path = f"/{rng.choice(['excerpts', 'missions', 'documents'])}.{rng.choice(['csv', 'json'])}?{query}"
        else:
            path = "/excerpts/feed/" + rng.choice(["", "?stance=critical", f"?country={rng.choice(data['countries'])}"])
        timed(results, kind, "GET", path)


def editor(stop, results, data, number, admin):
    """Logs in, then opens change forms of its own excerpts and saves each with a new paragraph value."""
    mine = data["editable"][number :: data["editor_count"]]
    if not mine:
        return
    cookies = {}
    timed(results, "login", "GET", f"/{admin}login/", cookies=cookies)
    status, _, _ = timed(
        results,
        "login",
        "POST",
        f"/{admin}login/?next=/{admin}",
        cookies=cookies,
        body={
            "username": data["username"],
            "password": data["password"],
            "csrfmiddlewaretoken": cookies.get("csrftoken", ""),
        },
    )
    if status != 302:
        return
    rng, saves = random.Random(number), 0  # noqa: S311 - a traffic mix, not a secret
    while not stop.is_set():
        pk = rng.choice(mine)
        url = f"/{admin}observers/excerpt/{pk}/change/"
        status, _, content = timed(results, "edit form", "GET", url, cookies=cookies)
        if status != 200:
            continue
        form = FormReader()
        form.feed(content.decode())
        saves += 1
        value = f"lt{number}-{saves}"
        fields = [(name, value_) for name, value_ in form.fields if name != "paragraph"] + [("paragraph", value)]
        status, headers, content = timed(results, "save", "POST", url, cookies=cookies, body=fields)
        if status == 302 and "/change/" not in (headers.get("Location") or ""):
            with results.lock:
                results.saves[pk] = value
                results.saved += 1
        elif status is not None and status < 400:
            # The form came back: a refusal (a conflict or a validation error) counts as an error.
            with results.lock:
                results.errors[("save refused", status)] += 1


# Report ----------------------------------------------------------------------------------------------


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] if ordered else 0.0


def verify(results):
    """Every save the server confirmed is in the database, with one history record each."""
    from observers.models import Excerpt

    current = dict(Excerpt.objects.filter(pk__in=results.saves).values_list("pk", "paragraph"))
    missing = {pk: value for pk, value in results.saves.items() if current.get(pk) != value}
    history = Excerpt.history.filter(paragraph__regex=r"^lt[0-9]+-[0-9]+$").count()
    return missing, history


def report(options, results, elapsed, missing, history):
    everything = [latency for values in results.latencies.values() for latency in values]
    total, errors = len(everything), sum(results.errors.values())
    summary = {
        "duration_s": options.duration,
        "until_drained_s": round(elapsed, 1),
        "concurrency": options.concurrency,
        "editors": options.editors,
        "workers": options.workers,
        "database": (options.database_url or "sqlite").split("://")[0],
        "requests": total,
        "requests_per_s": round(results.in_time / options.duration, 1),
        "p50_ms": round(percentile(everything, 0.50) * 1000),
        "p95_ms": round(percentile(everything, 0.95) * 1000),
        "p99_ms": round(percentile(everything, 0.99) * 1000),
        "errors": errors,
        "saves_confirmed": results.saved,
        "saves_missing": len(missing),
        "history_records_of_saves": history,
        "by_kind": {
            kind: {
                "requests": len(values),
                "p50_ms": round(percentile(values, 0.50) * 1000),
                "p95_ms": round(percentile(values, 0.95) * 1000),
                "p99_ms": round(percentile(values, 0.99) * 1000),
            }
            for kind, values in sorted(results.latencies.items())
        },
    }
    print()
    print(
        f"{total} requests ({results.in_time} answered within the {options.duration:.0f} s, the rest draining "
        f"after it) at concurrency {options.concurrency}: {summary['requests_per_s']} req/s"
    )
    print(f"latency p50 {summary['p50_ms']} ms · p95 {summary['p95_ms']} ms · p99 {summary['p99_ms']} ms")
    print(f"{'kind':<12} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind, row in summary["by_kind"].items():
        print(f"{kind:<12} {row['requests']:>8} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['p99_ms']:>8}")
    print(f"errors: {errors}" + (f" {dict(results.errors)}; e.g. {results.error_examples[:3]}" if errors else ""))
    print(
        f"saves: {results.saved} confirmed, {results.saved - len(missing)} found in the database, "
        f"{history} history records"
    )
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(summary, indent=2) + "\n")
    return errors == 0 and not missing and history >= results.saved


def main():
    global PORT
    options = parse_arguments()
    options.port = options.port or free_port()
    PORT = options.port
    workdir = Path(tempfile.mkdtemp(prefix="loadtest-"))
    env = environment(options, workdir)
    admin = env.get("DJANGO_ADMIN_URL", "admin/").strip("/") + "/"
    ok = False
    try:
        data = prepare(options, env)
        data["editor_count"] = options.editors
        process, log = start_gunicorn(env, workdir)
        results, stop = Results(), threading.Event()
        try:
            threads = [
                threading.Thread(target=editor, args=(stop, results, data, n, admin)) for n in range(options.editors)
            ] + [
                threading.Thread(target=visitor, args=(stop, results, data, n))
                for n in range(options.concurrency - options.editors)
            ]
            print(
                f"{options.duration:.0f} s against gunicorn ({options.workers} workers) on {HOST}:{PORT}: "
                f"{len(threads) - options.editors} visitors, {options.editors} editors …",
                flush=True,
            )
            started = time.monotonic()
            results.deadline = started + options.duration
            for thread in threads:
                thread.start()
            stop.wait(options.duration)
            stop.set()
            for thread in threads:
                thread.join(timeout=TIMEOUT + 5)
            elapsed = time.monotonic() - started
        finally:
            stop_gunicorn(process, log)
        missing, history = verify(results)
        ok = report(options, results, elapsed, missing, history)
    finally:
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"Kept for a look: {workdir} (gunicorn.log, and the SQLite database if no --database-url)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
