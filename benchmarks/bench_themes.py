"""Benchmark of the comment themes: segmentation (jieba), the token cache and the tagging of 1M comments.

    python benchmarks/bench_themes.py [--comments 1000000] [--seed 7] [--work benchmarks/_work]

Generates ``--comments`` survey comments once (not timed): one to three phrases of what customers
write about each theme of the lexicon, the comments without a theme and the generic ones of the
sample data (``cxlib.synth``), with the hours, a center, a model and a visit count varied so that
most texts are distinct, as in real exports (the distinct count is printed: the cache and the
tagging work per distinct text). Then, each in a fresh process whose peak resident memory is taken
from the kernel (``wait4``), it times

* ``cold``: segmentation of every distinct text, the cache written to the folder
  (``comment_tokens.parquet``), the tagging, the shares by NPS group and the LTR gap;
* ``warm``: the same with the cache in place (read, no segmentation): what every notebook run after
  the first one pays;
* ``propose``: TF-IDF + NMF on the comments without a lexicon theme (at most 200,000 of them).

Targets: the warm run takes at most half the cold run's time (the segmentation is what the cache
saves), and no run's peak memory exceeds 4 GB. Exit code 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CENTERS = ("金桥", "望京", "天河", "西湖", "徐汇", "南山", "高新")
MODELS = ("ES6", "ES8", "ET5", "ET7", "EC6", "Model Y", "小鹏G6", "理想L7")


def comments(n: int, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``n`` comments with an LTR and an NPS group each, deterministic for ``seed``."""
    from cxlib import catalog, synth

    rng = np.random.default_rng(seed)
    pains = [t.code for t in catalog.THEMES if t.polarity == "negative"]
    praise = [t.code for t in catalog.THEMES if t.polarity == "positive"]
    ltr = rng.integers(0, 11, n)
    group = np.where(ltr >= 9, "promoter", np.where(ltr >= 7, "passive", "detractor"))
    out = []
    zh_hours = synth._ZH_HOURS
    for i in range(n):
        k = 1 + int(rng.integers(0, 3))
        pool = pains if group[i] == "detractor" else (praise if group[i] == "promoter" else pains + praise)
        parts = []
        for _ in range(k):
            u = rng.random()
            if u < 0.1:
                parts.append(synth._OTHER_TEXTS[int(rng.integers(0, len(synth._OTHER_TEXTS)))])
            elif u < 0.18:
                g = synth._GENERIC_TEXTS[str(group[i])]
                parts.append(g[int(rng.integers(0, len(g)))])
            else:
                texts = synth._THEME_TEXTS[pool[int(rng.integers(0, len(pool)))]]
                parts.append(texts[int(rng.integers(0, len(texts)))].replace("{h}", zh_hours[int(rng.integers(1, 11))]))
        detail = int(rng.integers(0, 4))
        if detail == 1:
            parts.append(f"第{int(rng.integers(2, 30))}次来{CENTERS[int(rng.integers(0, len(CENTERS)))]}店")
        elif detail == 2:
            parts.append(f"{MODELS[int(rng.integers(0, len(MODELS)))]}做{int(rng.integers(1, 9)) * 10000}公里保养")
        elif detail == 3:
            parts.append(f"{int(rng.integers(7, 18))}点{int(rng.integers(0, 6)) * 10}分到的")
        out.append("，".join(parts))
    return out, ltr, group


def worker(mode: str, work: Path, n: int, seed: int) -> dict:
    import pandas as pd

    from cxlib import themes

    src = work / f"theme_comments_{n}_{seed}.parquet"
    df = pd.read_parquet(src)
    folder = work / f"theme_cache_{n}_{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if mode == "propose":
        tokens = themes.cached_tokens(df["text"], processed_dir=folder, fingerprint="bench")
        hits = themes.tag(df["text"], tokens)
        frame = pd.DataFrame({"text": df["text"], "tokens": tokens, "n_themes": hits.sum(axis=1)})
        untagged = frame[frame["n_themes"] == 0].head(200_000)
        t0 = time.perf_counter()
        proposals = themes.propose_themes(untagged, k=6, seed=seed)
        return {
            "seconds": time.perf_counter() - t0,
            "untagged": int((frame["n_themes"] == 0).sum()),
            "topics": [list(w) for w in proposals["top_words"]],
        }
    if mode == "cold":
        (folder / themes.CACHE_FILE).unlink(missing_ok=True)
    t0 = time.perf_counter()
    tokens = themes.cached_tokens(df["text"], processed_dir=folder, fingerprint="bench")
    t_tokens = time.perf_counter() - t0
    hits = themes.tag(df["text"], tokens)
    t_tag = time.perf_counter() - t0 - t_tokens
    frame = pd.concat([df[["ltr", "nps_group"]], hits], axis=1)
    frame["n_themes"] = hits.sum(axis=1)
    shares = themes.theme_share(frame, by="nps_group")
    gap = themes.ltr_gap(frame)
    return {
        "seconds": time.perf_counter() - started,
        "tokens_s": t_tokens,
        "tag_s": t_tag,
        "tagged_share": float((frame["n_themes"] > 0).mean()),
        "rows": int(len(shares) + len(gap)),
    }


def run_measured(args: list[str]) -> tuple[float, int, dict]:
    """Run this script as a worker; return (wall seconds, peak RSS in bytes, its JSON result)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"worker {' '.join(args)} failed:\n{proc.stderr.read().decode(errors='replace')}")
    return wall, usage.ru_maxrss * 1024, json.loads(out.decode().strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--comments", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "_work")
    ap.add_argument("--worker", choices=["cold", "warm", "propose"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.worker:
        print(json.dumps(worker(args.worker, args.work, args.comments, args.seed)))
        return 0

    import pandas as pd

    src = args.work / f"theme_comments_{args.comments}_{args.seed}.parquet"
    if not src.exists():
        print(f"generating {args.comments:,} comments …", flush=True)
        texts, ltr, group = comments(args.comments, args.seed)
        pd.DataFrame({"text": texts, "ltr": ltr, "nps_group": group}).to_parquet(src)
    distinct = pd.read_parquet(src, columns=["text"])["text"].nunique()
    common = ["--comments", str(args.comments), "--seed", str(args.seed), "--work", str(args.work)]
    rows = {}
    for mode in ("cold", "warm", "propose"):
        wall, peak, res = run_measured([*common, "--worker", mode])
        rows[mode] = {"wall_s": wall, "peak_mb": peak / 1e6, **res}
        print(
            f"{mode:>8}: {wall:7.1f} s wall, {peak / 1e6:7.0f} MB peak  {json.dumps(res, ensure_ascii=False)[:200]}",
            flush=True,
        )
    print(f"{args.comments:,} comments, {distinct:,} distinct")
    ok = True
    ratio = rows["warm"]["seconds"] / rows["cold"]["seconds"]  # the work itself, without the imports
    for name, value, limit in (
        ("warm / cold time", ratio, 0.5),
        ("peak memory (GB)", max(r["peak_mb"] for r in rows.values()) / 1e3, 4.0),
    ):
        passed = value <= limit
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'} {name} {value:.2f} (target <= {limit})")
    (args.work / "themes_results.json").write_text(
        json.dumps({"comments": args.comments, "distinct": int(distinct), **rows}, indent=2, ensure_ascii=False)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
