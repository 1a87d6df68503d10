"""Screenshots of the main pages for the README, at desktop and phone widths: `make screenshots`.

Builds a temporary SQLite database with the demo data, serves it with Django's development server on a
free port of 127.0.0.1, photographs each page with the system Chromium, stops the server and removes
the database. Writes docs/screenshots/<page>-<width>.png.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# (name, width, height shown): the top of each page, tall enough to show what the page is for.
SIZES = [("desktop", 1280, 1000), ("phone", 360, 1400)]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url, server, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The server stopped (exit status {server.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own server on 127.0.0.1)
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"The server did not answer at {url} within {seconds} s.")


def pages():
    """{name: address} of the pages to photograph, from the demo data."""
    from django.urls import reverse

    from observers.models import Excerpt

    claim = Excerpt.objects.get(text__startswith="The OSCE was clear that the election was well organised")
    return {
        "home": reverse("observers:home"),
        "election": reverse("observers:election_detail", args=["kz-2016-03-20-parliamentary"]),
        "excerpts": reverse("observers:excerpt_list"),
        "characterisations": reverse("observers:characterisation_list"),
        "excerpt": claim.get_absolute_url(),
        "organisation": reverse("observers:organisation_detail", args=["odihr"]),
    }


def main():
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder:
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "electionsite.settings",
            "DJANGO_DEBUG": "true",  # the development server, serving the static files itself
            "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        call_command("load_demo", verbosity=0)
        addresses = pages()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(Path(folder) / "server.log", "w") as log:
            server = subprocess.Popen(  # noqa: S603 (a fixed command line)
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for(base + "/", server)
                OUTPUT.mkdir(parents=True, exist_ok=True)
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                    for size, width, height in SIZES:
                        context = browser.new_context(
                            base_url=base, viewport={"width": width, "height": height}, color_scheme="light"
                        )
                        page = context.new_page()
                        for name, address in addresses.items():
                            page.goto(address)
                            page.locator("h1").wait_for()
                            path = OUTPUT / f"{name}-{size}.png"
                            page.screenshot(path=path, animations="disabled")
                            print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
                        context.close()
                    browser.close()
            finally:
                server.terminate()
                server.wait(timeout=10)


if __name__ == "__main__":
    main()
