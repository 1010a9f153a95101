"""Writes a transmission of COUNT passive results (docs/transmissions.md), one per worker of
scripts/bench_workers_csv.py's list of the same COUNT (same NIRs and names), for the seed's
establishment (SIRET of `siseri demo`), over the calendar month MONTH of 2025.

    python3 scripts/bench_transmissions_csv.py COUNT MONTH FILE
"""
import calendar
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_workers_csv import letters, nir_number  # noqa: E402

HEADER = ("siret;nir;cle;nom;prenom;date_naissance;type;debut;fin;unite;hp10;hp007;extremites;"
          "hp3;e;organe;h;radon_bqhm3;reference;remplace")
SIRET = "73282932000074"


def main() -> None:
    count, month, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    last = calendar.monthrange(2025, month)[1]
    period = f"01/{month:02}/2025;{last:02}/{month:02}/2025"
    first_names = [letters(i) for i in range(97)]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\ufeff" + HEADER + "\n")
        lines = []
        for i in range(count):
            number = nir_number(i)
            key = 97 - int(number) % 97
            lines.append(f"{SIRET};{number};{key:02};NOM{letters(i)};Prénom{first_names[i % 97]};"
                         f"01/01/1970;passive;{period};mSv;0,{i % 90 + 10};;;;;;;;"
                         f"DOS-2025{month:02}-{i:07};\n")
            if len(lines) == 100_000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)


if __name__ == "__main__":
    main()
