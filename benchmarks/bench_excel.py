"""Reading an agency-shaped workbook: klastergeo against pandas' ``read_excel``.

The workbook has what Dinas lists have: two title rows and a blank one, a two-row header
with merged cells, a row of column numbers, N firms with number cells (KBLI, amounts,
coordinates), a totals row and a footnote. klastergeo finds the header, names the columns
and skips the totals (``records.read_records``); the peer is ``pandas.read_excel(dtype=str)``
(openpyxl, the header on row 1: it only reads the cells). Each side runs in a process of
its own: wall time and peak memory.

    python benchmarks/bench_excel.py --rows 100000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

SIDES = {
    "klastergeo read_records": (
        "from klastergeo.io.registry.records import read_records; raw = read_records({path!r}); "
        "print(len(raw.frame))"
    ),
    "pandas read_excel(dtype=str)": (
        "import pandas as pd; f = pd.read_excel({path!r}, dtype=str, keep_default_na=False); "
        "print(len(f))"
    ),
}


def make(path: Path, rows: int) -> None:
    """The agency-shaped workbook (see the module docstring)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Klaten"
    ws.append(["DAFTAR IKM KABUPATEN KLATEN"])
    ws.append(["Tahun 2023"])
    ws.append([])
    ws.append(["No", "Nama Usaha", "Koordinat", None, "KBLI", "Nilai (Rp)", None, "Lokasi", None])
    ws.append([None, None, "Lintang", "Bujur", None, "Produksi", "Investasi", "Desa", "Kecamatan"])
    ws.append([f"({i})" for i in range(1, 10)])
    for ref in ("A4:A5", "B4:B5", "C4:D4", "E4:E5", "F4:G4", "H4:I4"):
        ws.merge_cells(ref)
    codes = [1111, 13134, 31001, 3226, 10710, 16101, 25111, 31001]
    for i in range(1, rows + 1):
        ws.append(
            [i, f"UD Usaha {i}", -7.6 - (i % 1000) / 1e4, 110.5 + (i % 997) / 1e4,
             codes[i % 8], 1000.0 * i, 10 * i, f"Desa {i % 50}", f"Kec {i % 26}"]
        )  # fmt: skip
    ws.append([None, "Jumlah", None, None, None, 1.0, 2, None, None])
    ws.append(["Sumber: Dinas Perindustrian"])
    book.save(path)


def run(code: str) -> tuple[float, float, str]:
    """Seconds, peak memory (MB, GNU time's maximum resident set) and output of ``code``
    in a process of its own."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    out, kb = done.stdout.strip(), done.stderr.strip().splitlines()[-1]
    return seconds, int(kb) / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ikm.xlsx"
        make(path, args.rows)
        print(f"{args.rows:,} firms, {path.stat().st_size / 1e6:.1f} MB")
        print("| side | seconds | peak MB | rows |\n|---|---|---|---|")
        for side, code in SIDES.items():
            seconds, peak, out = run(code.format(path=str(path)))
            print(f"| {side} | {seconds:.1f} | {peak:,.0f} | {out} |")


if __name__ == "__main__":
    main()
