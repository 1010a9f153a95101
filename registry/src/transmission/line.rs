//! One line of a transmission, checked on its own: its format, the NIR's key, the SIRET's, the
//! names, the kind and its quantities, the period (the dose model's rules). What needs the
//! database (the sender's right, the identity, duplicates) is the service's.

use time::Date;

use crate::dose::{siret_ok, DoseInput, DoseKind, NewDose, Organ};
use crate::nir::Nir;
use crate::transmission::format::Cells;
use crate::worker::search_key;

/// The longest sender's reference (dosimeter, measurement), in characters.
pub const REFERENCE_MAX: usize = 64;

/// A line that passed every check it can pass alone.
#[derive(Debug, Clone)]
pub(crate) struct CheckedLine {
    pub line: u64,
    pub nir: Nir,
    /// Folded "LAST FIRST".
    pub search_name: String,
    pub birth: Date,
    /// The result, its SIRET the line's (always `Some`). A pending line records it as a
    /// [`DoseInput`] again ([`DoseInput::of`]): the input as sent is not kept, its strings
    /// being the lookup thread's to free at every line.
    pub dose: NewDose,
    pub reference: String,
    pub replaces_ref: Option<String>,
}

/// A number as a sender writes it: `0.25` or `0,25`; empty is absent.
fn quantity(cell: &str, what: &str) -> Result<Option<f64>, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    let ok = cell.len() <= 32
        && cell
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',' || b == b'-');
    let parsed = if cell.contains(',') {
        cell.replace(',', ".").parse::<f64>()
    } else {
        cell.parse::<f64>()
    };
    match parsed {
        Ok(v) if ok && v.is_finite() => Ok(Some(v)),
        _ => Err(format!(
            "Colonne {what} : un nombre est attendu (ex. 0,25)."
        )),
    }
}

/// A reference: printable, no spaces at either end, at most [`REFERENCE_MAX`] characters.
fn reference(cell: &str, what: &str, required: bool) -> Result<Option<String>, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return if required {
            Err(format!(
                "Colonne {what} : indiquez votre référence du résultat (dosimètre, mesure)."
            ))
        } else {
            Ok(None)
        };
    }
    if cell.chars().count() > REFERENCE_MAX
        || cell.starts_with(['=', '+', '-', '@'])
        || cell.chars().any(store::text::is_forbidden)
    {
        return Err(format!(
            "Colonne {what} : {REFERENCE_MAX} caractères imprimables au plus, sans formule."
        ));
    }
    Ok(Some(cell.to_owned()))
}

fn name(cell: &str, what: &str) -> Result<String, String> {
    store::text::name(cell, false).map_err(|e| match e {
        store::text::TextError::Empty => format!("Colonne {what} : elle est vide."),
        store::text::TextError::TooLong(n) => {
            format!("Colonne {what} : {n} caractères au plus.")
        }
        store::text::TextError::Characters => format!(
            "Colonne {what} : lettres, espaces, tirets et apostrophes seulement (ni chiffre, ni caractère de contrôle, ni formule)."
        ),
    })
}

/// Checks the cells of line `n` (in [`super::format::COLUMNS`]'s order).
pub(crate) fn check(n: u64, cells: &Cells, today: Date) -> Result<CheckedLine, String> {
    let cell = |i: usize| cells.get(i);
    let siret = cell(0).trim();
    if !siret_ok(siret) {
        return Err(
            "Colonne siret : 14 chiffres dont la clé de contrôle est juste sont attendus.".into(),
        );
    }
    let nir = Nir::parse(cell(1), cell(2))
        .map_err(|e| {
            format!(
                "Colonnes nir et cle : {}",
                e.to_string().trim_end_matches('.')
            )
        })
        .map_err(|m| format!("{m}."))?;
    let last = name(cell(3), "nom")?;
    let first = name(cell(4), "prenom")?;
    let birth = crate::date::parse(cell(5).trim())
        .map_err(|_| "Colonne date_naissance : une date jj/mm/aaaa est attendue.".to_owned())?;
    let kind = DoseKind::from_str(cell(6).trim()).ok_or_else(|| {
        "Colonne type : passive, operational, internal, effective, equivalent, radon, aircrew ou no_result.".to_owned()
    })?;
    let unit = cell(9).trim();
    if kind != DoseKind::NoResult && unit != "mSv" {
        return Err("Colonne unite : les doses s'expriment en mSv.".into());
    }
    if kind == DoseKind::NoResult && !unit.is_empty() && unit != "mSv" {
        return Err("Colonne unite : vide ou mSv.".into());
    }
    let organ = match cell(15).trim() {
        "" => None,
        o => Some(Organ::from_form(o).ok_or_else(|| {
            "Colonne organe : lens (cristallin), skin (peau) ou extremities.".to_owned()
        })?),
    };
    let input = DoseInput {
        kind,
        period_start: cell(7).trim().to_owned(),
        period_end: cell(8).trim().to_owned(),
        hp10_msv: quantity(cell(10), "hp10")?,
        hp007_msv: quantity(cell(11), "hp007")?,
        extremity_msv: quantity(cell(12), "extremites")?,
        hp3_msv: quantity(cell(13), "hp3")?,
        e_msv: quantity(cell(14), "e")?,
        organ,
        h_msv: quantity(cell(16), "h")?,
        radon_bqhm3: quantity(cell(17), "radon_bqhm3")?,
        siret: Some(siret.to_owned()),
        replaces: None,
    };
    let dose = input.validate(today).map_err(|e| match e.fields() {
        Some(fields) if !fields.is_empty() => fields
            .iter()
            .map(|(field, why)| format!("{} : {why}", column_of(field)))
            .collect::<Vec<_>>()
            .join(" "),
        _ => e.to_string(),
    })?;
    let reference_cell = reference(cell(18), "reference", true)?.unwrap_or_default();
    let replaces_ref = reference(cell(19), "remplace", false)?;
    Ok(CheckedLine {
        line: n,
        nir,
        search_name: search_key(&last, &first),
        birth,
        dose,
        reference: reference_cell,
        replaces_ref,
    })
}

/// The file's column for a field of [`DoseInput`].
fn column_of(field: &str) -> &str {
    match field {
        "period_start" => "Colonne debut",
        "period_end" => "Colonne fin",
        "hp10_msv" => "Colonne hp10",
        "hp007_msv" => "Colonne hp007",
        "extremity_msv" => "Colonne extremites",
        "hp3_msv" => "Colonne hp3",
        "e_msv" => "Colonne e",
        "organ" => "Colonne organe",
        "h_msv" => "Colonne h",
        "radon_bqhm3" => "Colonne radon_bqhm3",
        "siret" => "Colonne siret",
        _ => "Ligne",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 06);

    pub(crate) fn cells(s: &str) -> Cells {
        Cells::of(s.split(';'))
    }

    const GOOD: &str = "73282932000074;2760912346445;12;Dupont;Marie;12/09/1976;passive;01/10/2026;31/10/2026;mSv;0,25;;;;;;;;DOS-1;";

    #[test]
    fn a_good_passive_line_is_read_to_the_microsievert() {
        let l = check(2, &cells(GOOD), TODAY).unwrap();
        assert_eq!(l.dose.hp10_usv, Some(250));
        assert_eq!(l.search_name, "DUPONT MARIE");
        assert_eq!(l.reference, "DOS-1");
    }

    #[test]
    fn each_bad_cell_gets_a_french_reason_that_does_not_echo_it() {
        for (from, to, word) in [
            (";12;Dupont", ";13;Dupont", "cle"),
            ("73282932000074", "73282932000079", "siret"),
            ("Dupont", "=HYPERLINK(\"x\")", "nom"),
            ("Marie", "Ma\u{1b}[2Jrie", "prenom"),
            ("0,25", "1e999", "hp10"),
            ("31/10/2026", "31/12/2027", "futur"),
            ("passive", "radon", "radon"),
            ("DOS-1", "", "reference"),
            (";mSv;", ";Sv;", "unite"),
        ] {
            let line = GOOD.replacen(from, to, 1);
            let why = check(2, &cells(&line), TODAY).unwrap_err();
            assert!(why.contains(word), "{to}: {why}");
            assert!(
                !why.contains("HYPERLINK") && !why.contains('\u{1b}'),
                "{why}"
            );
            assert!(!why.chars().any(store::text::is_forbidden), "{why}");
        }
    }
}
