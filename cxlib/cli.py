"""The ``cx`` command line.

    cx sample --visits 6000 --seed 20261001 data/raw [--effects reversed]
    cx check data/raw [--tz Asia/Shanghai]
    cx clean data/raw data/processed [--tz Asia/Shanghai] [--force] [--allow-outside-links] [--engine duckdb]
    cx clean data/raw data/processed --engine spark [--spark-master spark://host:7077] [--params clean.yaml]
    cx report --raw data/raw --period 2026-10 --center SH-JQ --out reports --jobs 2

Bad input ends with one line ``cx: error: <file>, column <c>, row <r>: <what>`` on stderr and
exit code 2, never a traceback. Programming errors still show their traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cxlib import options as run_options
from cxlib.catalog import DEFAULT_TZ
from cxlib.errors import DataError, EngineError, FolderError


def _cmd_sample(args: argparse.Namespace) -> int:
    from cxlib import synth

    paths = synth.write_sample(
        Path(args.out_dir),
        n_visits=args.visits,
        seed=args.seed,
        layout=args.layout,
        start=args.start,
        months=args.months,
        effects=args.effects,
    )
    total = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} files, {total / 1e6:.1f} MB, to {args.out_dir}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from cxlib import check

    report = check.check(Path(args.raw_dir), tz=args.tz)
    print(report.text())
    return 0 if report.ok else 2


#: what a ``cx clean --params`` file may set, and the defaults of its options
CLEAN_PARAMS = {"tz": DEFAULT_TZ, "engine": "pandas", "spark_master": "local[*]"}


def clean_options(args: argparse.Namespace) -> dict[str, str]:
    """The options of a ``cx clean`` run: command line over ``--params`` file over defaults
    (:data:`CLEAN_PARAMS`); an unknown key or a value that is not text is refused naming the file.

        >>> clean_options(build_parser().parse_args(["clean", "raw", "out", "--engine", "spark"]))
        {'tz': 'Asia/Shanghai', 'engine': 'spark', 'spark_master': 'local[*]'}
    """
    from_file: dict[str, str] = {}
    if args.params:
        for key, value in run_options.load_params(Path(args.params)).items():
            if key not in CLEAN_PARAMS:
                raise run_options.OptionError(
                    f"unknown parameter {key!r} for cx clean; allowed: {', '.join(CLEAN_PARAMS)}",
                    option=str(key),
                    file=args.params,
                    named=False,
                )
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                raise run_options.OptionError(f"must be text, got {value!r}", option=key, file=args.params)
            from_file[key] = value.strip()
    given = {k: getattr(args, k) for k in CLEAN_PARAMS if getattr(args, k) is not None}
    return {**CLEAN_PARAMS, **from_file, **given}


def _cmd_clean(args: argparse.Namespace) -> int:
    from cxlib import clean

    opts = clean_options(args)
    tz = run_options.check({"tz": opts["tz"]})["tz"]  # the same check as cx report's --tz
    if opts["engine"] not in clean.ENGINES:
        raise DataError(f"unknown engine {opts['engine']!r}; valid: {', '.join(clean.ENGINES)}")
    try:
        result = clean.clean(
            Path(args.raw_dir),
            Path(args.processed_dir),
            tz=tz,
            force=args.force,
            allow_outside_links=args.allow_outside_links,
            engine=opts["engine"],
            spark_master=opts["spark_master"],
        )
    except (FolderError, EngineError):
        raise
    except DataError as exc:
        # a problem of the raw data: the dry run lists all of them at once
        exc.message = f"{exc.message}; run `cx check {args.raw_dir}` for the full list"
        raise
    print(clean.summary_line(result))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from cxlib import report

    return report.main(args)


def one_line(text: str) -> str:
    r"""``text`` with line breaks and other unprintable characters escaped, so that an error
    quoting a raw header or value stays one line on the terminal.

        >>> print(one_line("found columns a\nb, c\x1b[31m"))
        found columns a\nb, c\x1b[31m
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line ``cx: error: ...`` with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"cx: error: {one_line(message)} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    """The ``cx`` parser with its subcommands ``sample``, ``clean`` and ``report``.

    >>> build_parser().parse_args(["report", "--jobs", "2"]).jobs
    '2'
    """
    parser = _Parser(prog="cx", description="CX research workbench")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="write a synthetic raw data set that follows the data contract")
    p.add_argument("out_dir")
    p.add_argument("--visits", type=int, default=6000, help="number of visits (default 6000)")
    p.add_argument("--seed", type=int, default=20261001)
    p.add_argument("--start", default="2026-05-01", help="first day of the period (default 2026-05-01)")
    p.add_argument("--months", type=int, default=6, help="length of the period in months (default 6)")
    p.add_argument(
        "--layout",
        choices=["mixed", "csv"],
        default="mixed",
        help="mixed: the formats real exports come in (XLSX, GBK, BOM, split files, Chinese "
        "headers); csv: one UTF-8 CSV per table (for benchmarks)",
    )
    p.add_argument(
        "--effects",
        choices=["default", "reversed"],
        default="default",
        help="default: the shipped sample's effects; reversed: every effect turned round (updates "
        "raise complaints and lower LTR, waiting is the best point), to test the findings",
    )
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("check", help="dry run: how the raw folder maps onto the data contract, every problem at once")
    p.add_argument("raw_dir")
    p.add_argument("--tz", default=DEFAULT_TZ, help=f"time zone of timestamps without offset (default {DEFAULT_TZ})")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("clean", help="clean raw tables into processed Parquet with a quality report")
    p.add_argument("raw_dir")
    p.add_argument("processed_dir")
    p.add_argument("--tz", default=None, help=f"time zone of timestamps without offset (default {DEFAULT_TZ})")
    p.add_argument("--force", action="store_true", help="rebuild even if the raw data did not change")
    p.add_argument(
        "--allow-outside-links",
        action="store_true",
        help="read raw files that are symbolic links to places outside the raw folder (recorded in "
        "the manifest, so later runs accept the same links)",
    )
    p.add_argument(
        "--engine",
        default=None,
        help="pandas: the reference rules (default; one core, memory grows with the data); duckdb: the "
        "cleaning as one relational plan on DuckDB (all cores, memory bounded; identical tables, "
        "slower than pandas for now: see README, Speed); spark: the same plan on Apache Spark "
        "(needs Java and the spark extra)",
    )
    p.add_argument(
        "--spark-master",
        dest="spark_master",
        default=None,
        metavar="URL",
        help="Spark master of --engine spark: local[*], local[N], spark://host:7077, yarn, k8s://… (default local[*])",
    )
    p.add_argument(
        "--params",
        default=None,
        metavar="FILE",
        help=f"YAML file with any of {', '.join(CLEAN_PARAMS)} (command line wins)",
    )
    p.set_defaults(func=_cmd_clean)

    p = sub.add_parser("report", help="run the report notebooks with papermill for a period and centers")
    # one table of options for the command line and the params file (cxlib.options); values are
    # taken as text here and checked there, so both give the same one-line errors
    for opt in run_options.OPTIONS:
        default = (
            "no limit"
            if opt.default is None
            else (",".join(opt.default) if isinstance(opt.default, list) else opt.default)
        )
        # a yes/no option may be given alone (--pdf) or with its value (--xlsx no)
        flag_only: dict[str, Any] = {"nargs": "?", "const": "yes"} if opt.yes_no else {}
        if flag_only:
            default = "yes" if opt.default else "no"
        p.add_argument(
            opt.flag,
            dest=opt.name,
            default=None,
            metavar=opt.metavar or ("yes|no" if flag_only else None),
            help=f"{opt.help}: {opt.allowed} (default {default})".replace("%", "%%"),
            **flag_only,
        )
    p.add_argument(
        "--params", default=None, metavar="FILE", help="YAML file with any of these options (command line wins)"
    )
    p.set_defaults(func=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        print(f"cx: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cx: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
