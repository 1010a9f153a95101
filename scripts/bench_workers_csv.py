"""Writes a workers list of COUNT lines in the registry's CSV format (registry/src/csv_format.rs):
UTF-8 with a BOM, `;`-separated, the French header, every NIR distinct and valid with its key.
The lines are those of registry/tests/import_speed.rs, so that the API import and the in-process
one read the same file.

    python3 scripts/bench_workers_csv.py COUNT FILE
"""
import sys

HEADER = ("nom;autre_nom;prenom;autres_prenoms;nir;cle;date_naissance;fraction;categorie;metier;"
          "nuisance;type_contrat;quotite;caractere;domaine;secteur;numero_carte")
TAIL = ("B;Manipulateur radio;1-Exposition externe;CDI;1.0;1-Civile;"
        "100000-Utilisations medicales et veterinaires;101000-Radiologie")


def letters(i: int) -> str:
    """`i` in letters, A…Z, BA…: names hold no digits."""
    out = []
    while True:
        out.append(chr(ord("A") + i % 26))
        i //= 26
        if i == 0:
            return "".join(reversed(out))


def nir_number(i: int) -> str:
    """13 digits, distinct for i < 2,277,720; born in 1970 (department 20 was still Corsica)."""
    sex = 1 + i % 2
    month = 1 + (i // 2) % 12
    departement = 1 + (i // 24) % 95
    order = 1 + (i // 2280) % 999
    commune = 1 + (i // 2_277_720) % 999
    return f"{sex}70{month:02}{departement:02}{commune:03}{order:03}"


def main() -> None:
    count, path = int(sys.argv[1]), sys.argv[2]
    if count > 2_277_720:
        sys.exit("at most 2,277,720 distinct NIRs")
    fractions = [letters(i) for i in range(20)]
    first_names = [letters(i) for i in range(97)]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\ufeff" + HEADER + "\n")
        lines = []
        for i in range(count):
            number = nir_number(i)
            key = 97 - int(number) % 97
            card = f"C{i + 1:08}" if i % 2 == 0 else ""
            lines.append(f"NOM{letters(i)};;Prénom{first_names[i % 97]};;{number};{key:02};;"
                         f"Fraction {fractions[i % 20]};{TAIL};{card}\n")
            if len(lines) == 100_000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)


if __name__ == "__main__":
    main()
