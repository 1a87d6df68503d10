"""Print the README's tables of "Scale and speed" from the benchmark's results.

    .venv/bin/python bench/tables.py [results folder]

It reads sqlite-1m.json, postgresql-1m.json, sqlite-100k.json and postgresql-100k.json (written by
`manage.py benchmark --json …`) and prints, in Markdown: every page at 1,000,000 excerpts on both
databases, the loads, the editors' admin, every page at 100,000, and each run's targets met or
missed. A missing file leaves its columns out.
"""

import json
import sys
from pathlib import Path

DATABASES = [("sqlite", "SQLite"), ("postgresql", "PostgreSQL")]


def ms(value):
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def read(folder, name):
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def table(header, rows):
    alignment = ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(line) + " |" for line in [header, alignment, *rows]]
    return "\n".join(lines)


def pages_table(reports, part, full):
    """One row per page, the databases side by side: with `full`, first, median, p95, queries, SQL and
    beyond SQL; otherwise first, median and p95."""
    present = [(label, report) for label, report in reports if report]
    if not present:
        return "(no results)"
    header = ["page"]
    for label, _ in present:
        header += [f"{label} first", f"{label} median", f"{label} p95"]
        if full:
            header += ["queries", "SQL", "beyond SQL"] if label == present[0][0] else ["SQL", "beyond SQL"]
    names = [result["page"] for result in present[0][1].get(part, [])]
    rows = []
    for name in names:
        row = [name]
        for label, report in present:
            result = next((r for r in report.get(part, []) if r["page"] == name), None)
            if result is None:
                row += ["—"] * (6 if full and label == present[0][0] else 5 if full else 3)
                continue
            row += [ms(result["first_ms"]), ms(result["median_ms"]), ms(result["p95_ms"])]
            if full:
                if label == present[0][0]:
                    row.append(str(result["queries"]))
                row += [ms(result["sql_ms"]), ms(result["beyond_sql_ms"])]
        rows.append(row)
    return table(header, rows)


def loads_table(reports):
    rows = []
    for label, report in reports:
        for load, result in ((report or {}).get("load") or {}).items():
            rows.append(
                [
                    label,
                    load,
                    f"{result['requests_per_second']:,.1f}",
                    *(f"{result[key]:,.0f} ms" for key in ("p50_ms", "p95_ms", "p99_ms")),
                    str(result["errors"]),
                ]
            )
    return table(["database", "load", "requests/s", "p50", "p95", "p99", "errors"], rows)


def machine_line(reports):
    """How fast each run's machine ran plain Python (see the benchmark's machine_ms), before and after."""
    runs = [
        f"{label} {report['machine_ms']['before']:.0f} and {report['machine_ms']['after']:.0f} ms"
        for label, report in reports
        if report and "machine_ms" in report
    ]
    return "Machine (a million numbers summed, before and after the pages): " + "; ".join(runs) if runs else ""


def verdicts(reports):
    """Each run's targets (see the benchmark's verdicts), met or missed, in a list."""
    lines = []
    for label, report in reports:
        for verdict in (report or {}).get("targets", []):
            mark = "met" if verdict["met"] else "**missed**"
            run = f"{label}, {report['excerpts']:,} excerpts"
            lines.append(f"- {run}: {verdict['target']}: {mark} ({verdict['detail']})")
    return "\n".join(lines)


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results")
    million = [(label, read(folder, f"{name}-1m")) for name, label in DATABASES]
    hundred = [(label, read(folder, f"{name}-100k")) for name, label in DATABASES]
    print("At 1,000,000 excerpts, every public page:\n")
    print(pages_table(million, "pages", full=True))
    print("\nLoads:\n")
    print(loads_table(million))
    print("\nThe editors' admin at 1,000,000 excerpts:\n")
    print(pages_table(million, "admin", full=False))
    print("\nAt 100,000 excerpts:\n")
    print(pages_table(hundred, "pages", full=False))
    if line := machine_line(million + hundred):
        print("\n" + line)
    if lines := verdicts(million + hundred):
        print("\nTargets:\n")
        print(lines)


if __name__ == "__main__":
    main()
