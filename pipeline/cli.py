"""The `ashyq` command line (DESIGN §4). Commands are thin: each calls one function of the pipeline.

This module is the composition root, so it is the one place that may start the crawlers (via Scrapy's
registry, by spider name) and the simulator.
"""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path

import click

from entities.config import database_url
from entities.db import make_engine


def _engine():  # type: ignore[no-untyped-def]
    return make_engine(database_url())


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug output.")
def main(verbose: bool) -> None:
    """Ashyq: who holds which education contract in Kazakhstan, on what legal basis."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# ---------------------------------------------------------------------------------------------- db
@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database (ASHYQ_DATABASE_URL, default data/ashyq.sqlite) to the newest schema."""
    from entities.migrate import upgrade

    engine = _engine()
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade(engine)
    click.echo(f"database at head: {engine.url.render_as_string(hide_password=True)}")


# ------------------------------------------------------------------------------------------- crawl
@main.command()
@click.argument("source")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Start of the date window (inclusive).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="End of the date window (inclusive).")
@click.option("--supplier", "supplier_bin", help="Tender history of one supplier (BIN or IIN).")
@click.option("--customer", "customer_bin", help="Contracts and announcements of one customer (BIN).")
@click.option("--slugs", help="govkz: comma-separated gov.kz entity slugs, or 'pack' (default) or 'all'.")
@click.option("--bins", help="statgov: comma-separated BINs instead of every BIN in the organizations table.")
@click.option("--job-dir", type=click.Path(path_type=Path), help="Scrapy JOBDIR: a killed crawl resumes from here.")
@click.option("-a", "extra", multiple=True, help="Extra spider argument NAME=VALUE (repeatable).")
def crawl(
    source: str,
    since: date | None,
    until: date | None,
    supplier_bin: str | None,
    customer_bin: str | None,
    slugs: str | None,
    bins: str | None,
    job_dir: Path | None,
    extra: tuple[str, ...],
) -> None:
    """Run one spider (goszakup, …) into the raw store; `curated` loads data/curated/*.yaml (-a path=DIR)."""
    from pipeline.crawl import CrawlError, run_crawl

    if source == "curated":
        _load_curated(dict(pair.partition("=")[::2] for pair in extra).get("path"))
        return
    args: dict[str, str] = {}
    if since:
        args["since"] = since.strftime("%Y-%m-%d")
    if until:
        args["until"] = until.strftime("%Y-%m-%d")
    if supplier_bin:
        args["supplier"] = supplier_bin
    if customer_bin:
        args["customer"] = customer_bin
    if slugs:
        args["slugs"] = slugs
    if bins:
        args["bins"] = bins
    for pair in extra:
        name, _, value = pair.partition("=")
        args[name] = value
    try:
        stats = run_crawl(source, args, job_dir=job_dir)
    except CrawlError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(stats.summary())
    if not stats.complete:
        # Scripts must be able to tell: re-running the same command resumes the missing units.
        sys.exit(1)


def _load_curated(path: str | None) -> None:
    from pipeline.curated import CURATED_DIR
    from pipeline.raw_import import load_curated_raw

    load = load_curated_raw(_engine(), Path(path) if path else CURATED_DIR)
    for error in load.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(load.summary())
    if load.rejected_files:
        sys.exit(1)


# ------------------------------------------------------------------------------------------ import
@main.group("import")
def import_() -> None:
    """Import files into the raw store (sources without an API)."""


@import_.command("ppp")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", default=None, help="Worksheet name (xlsx; default: the first with a header row).")
def import_ppp_cmd(file: Path, sheet: str | None) -> None:
    """PPP registry spreadsheet (xlsx or csv; docs/ppp-import.md) → raw records; rejected rows are listed."""
    from pipeline.ppp_import import PPPImportError
    from pipeline.raw_import import import_ppp_raw

    try:
        load = import_ppp_raw(_engine(), file, sheet=sheet)
    except PPPImportError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for reject in load.rejects:
        click.echo(f"rejected: {file.name} row {reject.row_number}: {reject.reason}", err=True)
    click.echo(load.summary())
    if load.rejects:
        sys.exit(1)


# ------------------------------------------------------------------------------------------- build
@main.command()
def build() -> None:
    """Normalize raw records, derive engagements (incremental; re-running changes nothing)."""
    from pipeline.build import run_build

    report = run_build(_engine(), progress=True)
    click.echo(report.summary())


# ------------------------------------------------------------------------------------------ export
@main.group()
def export() -> None:
    """Export tables for spreadsheets and other tools."""


@export.command("engagements")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def export_engagements_cmd(output: Path) -> None:
    """Who holds what, on which basis: CSV (UTF-8 with BOM) in the documented column order."""
    from pipeline.export import export_engagements

    count = export_engagements(_engine(), output)
    click.echo(f"{count} engagements written to {output}")


@export.command("entities")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def export_entities_cmd(output: Path) -> None:
    """Organizations and persons: every name seen, sources, and each merge's rule and score (CSV, UTF-8 BOM)."""
    from pipeline.resolution import export_entities

    count = export_entities(_engine(), output)
    click.echo(f"{count} entities written to {output}")


@export.command("memoranda")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
def export_memoranda_cmd(output: Path) -> None:
    """Memoranda with their parties: CSV (UTF-8 with BOM), lists joined with ` | `."""
    from pipeline.export_memoranda import export_memoranda

    count = export_memoranda(_engine(), output)
    click.echo(f"{count} memoranda written to {output}")


# >>> export graph (pipeline.graph)
# <<< export graph

# >>> export ftm, ocds, json (pipeline.export_ftm, pipeline.export_ocds)
# <<< export ftm, ocds, json

# >>> export flags (pipeline.flags)
# <<< export flags


# ---------------------------------------------------------------------------------- serve and demo
@main.command()
@click.option("--port", default=8501, show_default=True)
def dashboard(port: int) -> None:
    """Serve the Streamlit dashboard on 127.0.0.1."""
    from pipeline.serve import ServeError, serve_dashboard

    try:
        serve_dashboard(port=port)
    except ServeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@main.command()
@click.option("--port", default=8765, show_default=True)
@click.option("--scenario", default="demo", show_default=True, help="demo, or scale:N for N contracts.")
@click.option("--fault-rate", default=0.0, show_default=True, help="Share of requests that fail transiently.")
@click.option("--token", default=None, help="The token the simulator accepts (default: any non-empty).")
def simulate(port: int, scenario: str, fault_rate: float, token: str | None) -> None:
    """Serve the offline source simulator on 127.0.0.1 (goszakup GraphQL v3)."""
    from crawlers.simulator.server import serve_forever

    serve_forever(port=port, scenario=scenario, fault_rate=fault_rate, token=token)


@main.command()
@click.option("--port", default=8501, show_default=True)
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop (no dashboard).")
@click.option("--refresh", is_flag=True, help="Crawl the simulator again even if the demo data exists.")
def demo(port: int, no_serve: bool, refresh: bool) -> None:
    """Offline demo: simulator → crawl → build → dashboard, on SQLite under data/."""
    from pipeline.crawl import CrawlError
    from pipeline.demo import run_demo
    from pipeline.serve import ServeError

    try:
        run_demo(port=port, serve=not no_serve, refresh=refresh)
    except (CrawlError, ServeError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


# ------------------------------------------------------------------------------- entity resolution
@main.command("resolve")
@click.argument("in_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def resolve_cmd(in_csv: Path, output: Path) -> None:
    """Resolve a CSV of names (record_id,kind,name,bin,iin,context) to record_id,entity_id; no database."""
    from pipeline.resolve_csv import ResolveInputError, resolve_csv

    try:
        report, _ = resolve_csv(in_csv, output)
    except ResolveInputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(report.summary(), err=True)


@main.command()
@click.argument("decision", type=click.Choice(["same", "different", "unsure"]))
@click.argument("left")
@click.argument("right")
@click.option("--note", default=None, help="Why: what you checked.")
@click.option("--author", default=None, help="Who decides (default: $ASHYQ_USER, else the login name).")
def judge(decision: str, left: str, right: str, note: str | None, author: str | None) -> None:
    """Decide whether two mentions or entities (ids from `ashyq review`) are the same; overrides the matcher."""
    from entities.judgements import JudgementError, record_judgement

    try:
        j = record_judgement(_engine(), decision, left, right, note=note, author=author)
    except JudgementError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"judgement {j.id}: {j.left_ref} {j.decision} {j.right_ref} (by {j.author}); applies from the next build")


@main.command()
@click.option("--limit", default=30, show_default=True, help="How many pairs to list.")
@click.option("--kind", type=click.Choice(["organization", "person"]), default=None)
def review(limit: int, kind: str | None) -> None:
    """List the uncertain entity matches, most important first, with the `ashyq judge` line for each."""
    from entities.judgements import review_queue

    items, _ = review_queue(_engine(), kind=kind)  # type: ignore[arg-type]
    if not items:
        click.echo("no uncertain pairs")
        return
    for item in items[:limit]:
        p = item.pair
        click.echo(f"{p.kind} · score {p.score:.0f} · {p.reason} · {p.importance:g} mentions involved")
        click.echo(f"  {item.left.id:>8}  {item.left.name}   [{p.left_entity}]")
        click.echo(f"  {item.right.id:>8}  {item.right.name}   [{p.right_entity}]")
        click.echo(f"  ashyq judge same|different|unsure {item.left.id} {item.right.id} --note \"…\"")
    if len(items) > limit:
        click.echo(f"… {len(items) - limit} more (--limit)")


# >>> graph commands (pipeline.graph)
# <<< graph commands

# >>> flags commands (pipeline.flags)
# <<< flags commands


if __name__ == "__main__":
    main()
