//! One line of the workers form (`examples/worker.json`, one CSV line), and its validation into
//! a [`Worker`].

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use super::fields::{ActivityCharacter, CardNumber, Category, ContractType, WorkFraction};
use super::Worker;
use crate::date::{self, DateError};
use crate::error::FieldErrors;
use crate::nir::{Nir, NirError};
use store::text::{self, present, TextError, LABEL_MAX, NAME_MAX};

/// *Type opération* of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    /// *Ajout*: a new worker on the list.
    #[serde(rename = "ajout")]
    Add,
    /// *Modification*: the whole line replaced, the worker found by card number, else by NIR.
    #[serde(rename = "modification")]
    Modify,
    /// *Suppression*: the worker leaves the list, found by card number, else by NIR. Their row,
    /// dose records and card are kept (the registry keeps a career's results for 50 years); an
    /// *Ajout* or an import of the same NIR puts them back on the list.
    #[serde(rename = "suppression")]
    Remove,
}

impl Operation {
    /// Stable form (`ajout`, `modification`, `suppression`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "ajout",
            Self::Modify => "modification",
            Self::Remove => "suppression",
        }
    }
}

/// One operation on a workers list, as `POST /api/v1/establishments/{id}/workers` receives it:
/// exactly the fields of `examples/worker.json`. Everything is optional here so that a missing
/// field gets a French message of its own instead of a parser error.
///
/// `Debug` hides the NIR and its key.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerInput {
    /// *Ajout*, *Modification* or *Suppression*.
    pub operation: Option<Operation>,
    /// *Numéro de carte de suivi médical*: the card to record (*Ajout*) or the worker to find
    /// (*Modification*, *Suppression*).
    #[serde(default)]
    pub card_number: Option<String>,
    /// *Nouvelle carte*: assign the next card number.
    #[serde(default)]
    pub new_card: bool,
    /// *Nom de famille* (required).
    #[serde(default)]
    pub last_name: Option<String>,
    /// *Autre nom connu*.
    #[serde(default)]
    pub other_name: Option<String>,
    /// *Prénom* (required).
    #[serde(default)]
    pub first_name: Option<String>,
    /// *Autres prénoms*.
    #[serde(default)]
    pub other_first_names: Option<String>,
    /// *Numéro RNIPP*: the 13 characters of the NIR (required).
    #[serde(default)]
    pub nir: Option<String>,
    /// *Clé*: the NIR's 2-digit key (required).
    #[serde(default)]
    pub nir_key: Option<String>,
    /// *Jour de naissance*, `jj/mm/aaaa`.
    #[serde(default)]
    pub birth_date: Option<String>,
    /// *Fraction*: the name of one of the list's fractions.
    #[serde(default)]
    pub fraction: Option<String>,
    /// *Catégorie*: `A`, `B` or `non classé`.
    #[serde(default)]
    pub category: Option<String>,
    /// *Métier*.
    #[serde(default)]
    pub job: Option<String>,
    /// *Nuisance radiologique*, e.g. `1-Exposition externe`.
    #[serde(default)]
    pub radiological_hazard: Option<String>,
    /// *Type de contrat*: CDI, CDD, intérim, non salarié…
    #[serde(default)]
    pub contract_type: Option<String>,
    /// *Quotité de travail*, 0 < q ≤ 1.
    #[serde(default)]
    pub work_fraction: Option<f64>,
    /// *Caractère de l'activité*: `1-Civile` or `2-Militaire`.
    #[serde(default)]
    pub activity_character: Option<String>,
    /// *Domaine d'activité*, e.g. `100000-Utilisations medicales et veterinaires`.
    #[serde(default)]
    pub domain: Option<String>,
    /// *Secteur d'activité*, e.g. `102000-Soins dentaires`.
    #[serde(default)]
    pub sector: Option<String>,
    /// *Sexe* (`M` or `F`; `M.`/`Mme` accepted): checked against the NIR's first digit, not
    /// stored (the NIR holds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// *Département de naissance* (`01`–`95`, `2A`, `2B`, `971`…, `99` abroad): checked against
    /// the NIR, not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_departement: Option<String>,
    /// *Date d'entrée dans l'établissement*, `jj/mm/aaaa`: the first day of the employment
    /// (*Ajout*; a *Modification* may correct it). Today when empty.
    #[serde(default)]
    pub employed_from: Option<String>,
}

impl fmt::Debug for WorkerInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("WorkerInput")
            .field("operation", &self.operation)
            .field("card_number", &self.card_number)
            .field("new_card", &self.new_card)
            .field("last_name", &self.last_name)
            .field("first_name", &self.first_name)
            .field("nir", &hidden(&self.nir))
            .field("nir_key", &hidden(&self.nir_key))
            .finish_non_exhaustive()
    }
}

/// The fields of a line, for naming errors: the JSON name (form and API) and the CSV column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Field {
    CardNumber,
    LastName,
    OtherName,
    FirstName,
    OtherFirstNames,
    Nir,
    NirKey,
    BirthDate,
    Fraction,
    Category,
    Job,
    RadiologicalHazard,
    ContractType,
    WorkFraction,
    ActivityCharacter,
    Domain,
    Sector,
    Sex,
    BirthDepartement,
}

impl Field {
    pub(crate) fn json(self) -> &'static str {
        match self {
            Self::CardNumber => "card_number",
            Self::LastName => "last_name",
            Self::OtherName => "other_name",
            Self::FirstName => "first_name",
            Self::OtherFirstNames => "other_first_names",
            Self::Nir => "nir",
            Self::NirKey => "nir_key",
            Self::BirthDate => "birth_date",
            Self::Fraction => "fraction",
            Self::Category => "category",
            Self::Job => "job",
            Self::RadiologicalHazard => "radiological_hazard",
            Self::ContractType => "contract_type",
            Self::WorkFraction => "work_fraction",
            Self::ActivityCharacter => "activity_character",
            Self::Domain => "domain",
            Self::Sector => "sector",
            Self::Sex => "sex",
            Self::BirthDepartement => "birth_departement",
        }
    }

    pub(crate) fn csv(self) -> &'static str {
        match self {
            Self::CardNumber => "numero_carte",
            Self::LastName => "nom",
            Self::OtherName => "autre_nom",
            Self::FirstName => "prenom",
            Self::OtherFirstNames => "autres_prenoms",
            Self::Nir => "nir",
            Self::NirKey => "cle",
            Self::BirthDate => "date_naissance",
            Self::Fraction => "fraction",
            Self::Category => "categorie",
            Self::Job => "metier",
            Self::RadiologicalHazard => "nuisance",
            Self::ContractType => "type_contrat",
            Self::WorkFraction => "quotite",
            Self::ActivityCharacter => "caractere",
            Self::Domain => "domaine",
            Self::Sector => "secteur",
            Self::Sex => "sexe",
            Self::BirthDepartement => "departement_naissance",
        }
    }

    /// The subject of a French sentence about the field.
    fn subject(self) -> &'static str {
        match self {
            Self::LastName => "Le nom de famille",
            Self::OtherName => "L'autre nom connu",
            Self::FirstName => "Le prénom",
            Self::OtherFirstNames => "Les autres prénoms",
            Self::Fraction => "Le nom de la fraction",
            Self::Job => "Le métier",
            Self::RadiologicalHazard => "La nuisance radiologique",
            Self::Domain => "Le domaine d'activité",
            Self::Sector => "Le secteur d'activité",
            _ => "Ce champ",
        }
    }

    fn plural(self) -> bool {
        self == Self::OtherFirstNames
    }
}

/// A validation failure: which field, and the French sentence (never the value).
pub(crate) type Problem = (Field, String);

pub(crate) fn text_message(field: Field, error: TextError, name: bool) -> String {
    let (subject, can, is) = if field.plural() {
        (field.subject(), "ne peuvent", "sont")
    } else {
        (field.subject(), "ne peut", "est")
    };
    match error {
        TextError::Empty => format!("{subject} {is} obligatoire{}.", if field.plural() { "s" } else { "" }),
        TextError::TooLong(max) => format!("{subject} {can} dépasser {max} caractères."),
        TextError::Characters if name && field == Field::OtherFirstNames => format!(
            "{subject} {can} contenir que des lettres, des espaces, des traits d'union, des apostrophes et des virgules."
        ),
        TextError::Characters if name => format!(
            "{subject} {can} contenir que des lettres, des espaces, des traits d'union et des apostrophes."
        ),
        TextError::Characters => format!("{subject} contient des caractères non admis."),
    }
}

/// The form's fields as borrowed text, from JSON or from a CSV line.
#[derive(Default)]
pub(crate) struct RawWorker<'a> {
    pub card_number: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub other_name: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub other_first_names: Option<&'a str>,
    pub nir: Option<&'a str>,
    pub nir_key: Option<&'a str>,
    pub birth_date: Option<&'a str>,
    pub fraction: Option<&'a str>,
    pub category: Option<&'a str>,
    pub job: Option<&'a str>,
    pub radiological_hazard: Option<&'a str>,
    pub contract_type: Option<&'a str>,
    pub work_fraction: RawFraction<'a>,
    pub activity_character: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub sector: Option<&'a str>,
    pub sex: Option<&'a str>,
    pub birth_departement: Option<&'a str>,
}

/// The working-time fraction as a JSON number or as CSV text.
#[derive(Default, Clone, Copy)]
pub(crate) enum RawFraction<'a> {
    #[default]
    Absent,
    Number(f64),
    Text(&'a str),
}

impl<'a> From<&'a WorkerInput> for RawWorker<'a> {
    fn from(i: &'a WorkerInput) -> Self {
        Self {
            card_number: i.card_number.as_deref(),
            last_name: i.last_name.as_deref(),
            other_name: i.other_name.as_deref(),
            first_name: i.first_name.as_deref(),
            other_first_names: i.other_first_names.as_deref(),
            nir: i.nir.as_deref(),
            nir_key: i.nir_key.as_deref(),
            birth_date: i.birth_date.as_deref(),
            fraction: i.fraction.as_deref(),
            category: i.category.as_deref(),
            job: i.job.as_deref(),
            radiological_hazard: i.radiological_hazard.as_deref(),
            contract_type: i.contract_type.as_deref(),
            work_fraction: i
                .work_fraction
                .map_or(RawFraction::Absent, RawFraction::Number),
            activity_character: i.activity_character.as_deref(),
            domain: i.domain.as_deref(),
            sector: i.sector.as_deref(),
            sex: i.sex.as_deref(),
            birth_departement: i.birth_departement.as_deref(),
        }
    }
}

/// Parses the NIR and its key; the error names the field at fault.
pub(crate) fn nir(number: Option<&str>, key: Option<&str>) -> Result<Nir, Problem> {
    let Some(number) = present(number) else {
        return Err((Field::Nir, "Le numéro RNIPP (NIR) est obligatoire.".into()));
    };
    let Some(key) = present(key) else {
        return Err((Field::NirKey, "La clé du NIR est obligatoire.".into()));
    };
    Nir::parse(number, key).map_err(|e| {
        let field = match e {
            NirError::KeyFormat | NirError::KeyMismatch => Field::NirKey,
            _ => Field::Nir,
        };
        (field, e.to_string())
    })
}

pub(crate) fn card_number(input: Option<&str>) -> Result<Option<CardNumber>, Problem> {
    match present(input) {
        None => Ok(None),
        Some(text) => CardNumber::parse(text).map(Some).ok_or_else(|| {
            (
                Field::CardNumber,
                "Le numéro de carte de suivi médical doit être la lettre C suivie de 8 chiffres."
                    .into(),
            )
        }),
    }
}

pub(crate) fn fraction_name(input: &str) -> Result<String, String> {
    fraction_label(input).map_err(|e| text_message(Field::Fraction, e, false))
}

/// A fraction's name: a label whose search key is not empty. A name of nothing but hyphens,
/// apostrophes or combining marks (`-`, `\u{301}`) folds to no key at all, which the database
/// refuses: refused here, as typed, rather than as an internal error at the insert.
fn fraction_label(input: &str) -> Result<String, TextError> {
    let name = text::label(input, NAME_MAX)?;
    if text::fold(&name).is_empty() {
        return Err(TextError::Characters);
    }
    Ok(name)
}

/// Validates every field of a line and reports every problem, not only the first.
pub(crate) fn validate(raw: &RawWorker<'_>, today: Date) -> Result<Worker, Vec<Problem>> {
    let mut problems = Vec::new();
    let p = &mut problems;

    let card_number = keep(p, card_number(raw.card_number)).flatten();
    let last_name = keep(p, required_name(Field::LastName, raw.last_name));
    let other_name = keep(p, optional_name(Field::OtherName, raw.other_name, false));
    let first_name = keep(p, required_name(Field::FirstName, raw.first_name));
    let other_first_names = keep(
        p,
        optional_name(Field::OtherFirstNames, raw.other_first_names, true),
    );
    let nir = keep(p, nir(raw.nir, raw.nir_key));
    let birth_date = keep(p, birth_date(raw.birth_date, nir.as_ref(), today));
    keep(p, sex(raw.sex, nir.as_ref()));
    keep(p, birth_departement(raw.birth_departement, nir.as_ref()));
    let fraction = keep(
        p,
        optional(Field::Fraction, raw.fraction, fraction_label, false),
    );
    let category = keep(
        p,
        coded(
            raw.category,
            Category::parse,
            Field::Category,
            "La catégorie doit être A, B ou non classé.",
        ),
    );
    let job = keep(p, optional_label(Field::Job, raw.job));
    let radiological_hazard = keep(
        p,
        optional_label(Field::RadiologicalHazard, raw.radiological_hazard),
    );
    let contract_type = keep(p, coded(raw.contract_type, ContractType::parse, Field::ContractType,
        "Le type de contrat doit être CDI, CDD, intérim, non salarié, apprentissage, stage ou autre."));
    let work_fraction = keep(p, work_fraction(raw.work_fraction));
    let activity_character = keep(
        p,
        coded(
            raw.activity_character,
            ActivityCharacter::parse,
            Field::ActivityCharacter,
            "Le caractère de l'activité doit être 1-Civile ou 2-Militaire.",
        ),
    );
    let domain = keep(p, optional_label(Field::Domain, raw.domain));
    let sector = keep(p, optional_label(Field::Sector, raw.sector));

    match (last_name, first_name, nir) {
        (Some(last_name), Some(first_name), Some(nir)) if problems.is_empty() => Ok(Worker {
            card_number,
            last_name,
            other_name: other_name.flatten(),
            first_name,
            other_first_names: other_first_names.flatten(),
            nir,
            birth_date: birth_date.flatten(),
            fraction: fraction.flatten(),
            category: category.flatten(),
            job: job.flatten(),
            radiological_hazard: radiological_hazard.flatten(),
            contract_type: contract_type.flatten(),
            work_fraction: work_fraction.flatten(),
            activity_character: activity_character.flatten(),
            domain: domain.flatten(),
            sector: sector.flatten(),
        }),
        _ => Err(problems),
    }
}

/// Problems keyed by JSON field name, the first one per field.
pub(crate) fn by_json_name(problems: Vec<Problem>) -> FieldErrors {
    let mut fields = FieldErrors::new();
    for (field, message) in problems {
        fields.entry(field.json().to_owned()).or_insert(message);
    }
    fields
}

fn keep<T>(problems: &mut Vec<Problem>, result: Result<T, Problem>) -> Option<T> {
    result.map_err(|p| problems.push(p)).ok()
}

fn required_name(field: Field, input: Option<&str>) -> Result<String, Problem> {
    text::name(input.unwrap_or(""), false).map_err(|e| (field, text_message(field, e, true)))
}

fn optional(
    field: Field,
    input: Option<&str>,
    parse: impl Fn(&str) -> Result<String, TextError>,
    name: bool,
) -> Result<Option<String>, Problem> {
    match present(input) {
        None => Ok(None),
        Some(text) => parse(text)
            .map(Some)
            .map_err(|e| (field, text_message(field, e, name))),
    }
}

/// An optional personal name; `list` allows several, separated by commas.
fn optional_name(field: Field, input: Option<&str>, list: bool) -> Result<Option<String>, Problem> {
    optional(field, input, |t| text::name(t, list), true)
}

fn optional_label(field: Field, input: Option<&str>) -> Result<Option<String>, Problem> {
    optional(field, input, |t| text::label(t, LABEL_MAX), false)
}

fn coded<T>(
    input: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    field: Field,
    message: &str,
) -> Result<Option<T>, Problem> {
    match present(input) {
        None => Ok(None),
        Some(text) => parse(text)
            .map(Some)
            .ok_or_else(|| (field, message.to_owned())),
    }
}

fn work_fraction(input: RawFraction<'_>) -> Result<Option<WorkFraction>, Problem> {
    let parsed = match input {
        RawFraction::Absent => return Ok(None),
        RawFraction::Text(text) if text.trim().is_empty() => return Ok(None),
        RawFraction::Text(text) => WorkFraction::parse(text),
        RawFraction::Number(n) => WorkFraction::from_f64(n),
    };
    parsed.map(Some).ok_or_else(|| {
        (
            Field::WorkFraction,
            "La quotité de travail doit être supérieure à 0 et au plus égale à 1 (par exemple 1.0 ou 0.5), avec au plus 3 décimales."
                .into(),
        )
    })
}

fn birth_date(
    input: Option<&str>,
    nir: Option<&Nir>,
    today: Date,
) -> Result<Option<Date>, Problem> {
    let Some(text) = present(input) else {
        return Ok(None);
    };
    let problem = |m: &str| (Field::BirthDate, m.to_owned());
    let date = date::parse(text).map_err(|e| match e {
        DateError::Format => problem("La date de naissance doit s'écrire jj/mm/aaaa."),
        DateError::Invalid => problem("La date de naissance n'est pas une date qui existe."),
    })?;
    if date > today {
        return Err(problem(
            "La date de naissance ne peut pas être dans le futur.",
        ));
    }
    if let Some(nir) = nir {
        if !matches_nir(date, nir) {
            return Err(problem(
                "La date de naissance ne correspond pas à l'année et au mois de naissance inscrits dans le NIR.",
            ));
        }
    }
    Ok(Some(date))
}

/// The declared sex, when given, against the NIR's first digit (odd: a man, even: a woman).
fn sex(input: Option<&str>, nir: Option<&Nir>) -> Result<(), Problem> {
    let Some(text) = present(input) else {
        return Ok(());
    };
    let male = match text.to_uppercase().as_str() {
        "M" | "M." | "H" | "1" => true,
        "F" | "MME" | "2" => false,
        _ => {
            return Err((
                Field::Sex,
                "Le sexe s'indique M (homme) ou F (femme).".into(),
            ))
        }
    };
    match nir {
        Some(nir) if nir.is_male() != male => Err((
            Field::Sex,
            "Le sexe déclaré ne correspond pas au premier chiffre du NIR (1 pour un homme, 2 pour une femme).".into(),
        )),
        _ => Ok(()),
    }
}

/// The declared département of birth, when given, against the NIR's positions 6–7 (6–8
/// overseas). Corsica's `2A` and `2B` match the `20` of NIRs given before 1976.
fn birth_departement(input: Option<&str>, nir: Option<&Nir>) -> Result<(), Problem> {
    let Some(text) = present(input) else {
        return Ok(());
    };
    let declared = text.to_uppercase();
    let two_digits = declared.len() == 2 && declared.bytes().all(|b| b.is_ascii_digit());
    let valid = match declared.as_str() {
        "2A" | "2B" | "99" => true,
        d if two_digits => matches!(d.parse::<u8>(), Ok(1..=19 | 21..=95)),
        d => {
            d.len() == 3
                && d.bytes().all(|b| b.is_ascii_digit())
                && (d.starts_with("97") || d.starts_with("98"))
        }
    };
    if !valid {
        return Err((
            Field::BirthDepartement,
            "Le département de naissance s'écrit 01 à 95, 2A, 2B, 971 à 989, ou 99 pour une naissance à l'étranger.".into(),
        ));
    }
    let Some(nir) = nir else {
        return Ok(());
    };
    let in_nir = nir.birth_departement();
    let corsica = matches!(declared.as_str(), "2A" | "2B") && in_nir == "20";
    if in_nir != declared && !corsica {
        return Err((
            Field::BirthDepartement,
            "Le département de naissance déclaré ne correspond pas à celui inscrit dans le NIR."
                .into(),
        ));
    }
    Ok(())
}

/// Positions 2–3 of the NIR are the birth year's last two digits, 4–5 the month (or 20–42,
/// 50–99 when the civil record had no month, then only the year is compared).
fn matches_nir(date: Date, nir: &Nir) -> bool {
    let digits = nir.as_str().as_bytes();
    let two = |i: usize| i32::from(digits[i] - b'0') * 10 + i32::from(digits[i + 1] - b'0');
    let (year, month) = (two(1), two(3));
    let year_ok = date.year().rem_euclid(100) == year;
    let month_ok = !(1..=12).contains(&month) || i32::from(u8::from(date.month())) == month;
    year_ok && month_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2025 - 06 - 30);

    /// `examples/worker.json`, the seed's worker.
    const SEED: &str = r#"{
  "operation": "ajout",
  "card_number": null,
  "new_card": true,
  "last_name": "DIDIER",
  "other_name": null,
  "first_name": "Valérie",
  "other_first_names": null,
  "nir": "2760912346445",
  "nir_key": "12",
  "birth_date": null,
  "fraction": null,
  "category": null,
  "job": "Assistant dentaire",
  "radiological_hazard": "1-Exposition externe",
  "contract_type": "CDI",
  "work_fraction": 1.0,
  "activity_character": "1-Civile",
  "domain": "100000-Utilisations medicales et veterinaires",
  "sector": "102000-Soins dentaires"
}"#;

    fn seed() -> WorkerInput {
        serde_json::from_str(SEED).unwrap()
    }

    #[test]
    fn the_seeds_worker_is_valid() {
        let input = seed();
        assert_eq!(input.operation, Some(Operation::Add));
        assert!(input.new_card);
        let worker = validate(&RawWorker::from(&input), TODAY).unwrap();
        assert_eq!(worker.last_name, "DIDIER");
        assert_eq!(worker.first_name, "Valérie");
        assert_eq!(worker.nir.as_str(), "2760912346445");
        assert_eq!(worker.nir.key(), "12");
        assert_eq!(worker.contract_type, Some(ContractType::Permanent));
        assert_eq!(worker.work_fraction.unwrap().per_mille(), 1000);
        assert_eq!(worker.activity_character, Some(ActivityCharacter::Civil));
        assert_eq!(worker.sector.as_deref(), Some("102000-Soins dentaires"));
    }

    #[test]
    fn every_problem_is_reported_at_once_keyed_by_field() {
        let input = WorkerInput {
            operation: Some(Operation::Add),
            nir: Some("2951099126111".into()),
            nir_key: Some("99".into()),
            category: Some("Z".into()),
            work_fraction: Some(1.5),
            birth_date: Some("31/02/1995".into()),
            ..WorkerInput::default()
        };
        let fields = by_json_name(validate(&RawWorker::from(&input), TODAY).unwrap_err());
        let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "birth_date",
                "category",
                "first_name",
                "last_name",
                "nir_key",
                "work_fraction"
            ]
        );
        assert_eq!(fields["last_name"], "Le nom de famille est obligatoire.");
        for message in fields.values() {
            assert!(!message.contains("2951099126111"), "{message}");
            assert!(!message.contains("1.5"), "{message}");
        }
    }

    #[test]
    fn a_fraction_name_that_folds_to_no_key_is_refused_as_typed() {
        for name in ["-", "'", "\u{301}", "- \u{308}'"] {
            let mut input = seed();
            input.fraction = Some(name.into());
            let fields = by_json_name(validate(&RawWorker::from(&input), TODAY).unwrap_err());
            assert_eq!(
                fields["fraction"], "Le nom de la fraction contient des caractères non admis.",
                "{name:?}"
            );
            assert!(fraction_name(name).is_err(), "{name:?}");
        }
        assert_eq!(fraction_name("Bloc-2").unwrap(), "Bloc-2");
    }

    #[test]
    fn a_declared_sex_and_departement_of_birth_must_agree_with_the_nir() {
        // The seed's NIR: a woman (2) born in the Aveyron (12).
        let mut input = seed();
        input.sex = Some("F".into());
        input.birth_departement = Some("12".into());
        assert!(validate(&RawWorker::from(&input), TODAY).is_ok());
        input.sex = Some("Mme".into());
        assert!(validate(&RawWorker::from(&input), TODAY).is_ok());
        input.sex = Some("M".into());
        input.birth_departement = Some("75".into());
        let fields = by_json_name(validate(&RawWorker::from(&input), TODAY).unwrap_err());
        assert!(fields["sex"].contains("premier chiffre du NIR"));
        assert!(fields["birth_departement"].contains("NIR"));
        input.sex = Some("<b>X</b>".into());
        input.birth_departement = Some("20".into());
        let fields = by_json_name(validate(&RawWorker::from(&input), TODAY).unwrap_err());
        assert!(!fields["sex"].contains("<b>") && fields["sex"].contains("M (homme)"));
        assert!(fields["birth_departement"].contains("2A, 2B"));
        // Empty: nothing declared, nothing checked.
        input.sex = Some(" ".into());
        input.birth_departement = None;
        assert!(validate(&RawWorker::from(&input), TODAY).is_ok());
    }

    #[test]
    fn corsica_born_before_1976_keeps_20_in_the_nir() {
        let nir = (0..97).find_map(|k| Nir::parse("1550820168025", &format!("{k:02}")).ok());
        let nir = nir.expect("a Corsican NIR of 1955");
        assert!(birth_departement(Some("2A"), Some(&nir)).is_ok());
        assert!(birth_departement(Some("2B"), Some(&nir)).is_ok());
        assert!(birth_departement(Some("13"), Some(&nir)).is_err());
        assert!(sex(Some("H"), Some(&nir)).is_ok());
        assert!(sex(Some("F"), Some(&nir)).is_err());
    }

    #[test]
    fn a_birth_date_must_agree_with_the_nir() {
        let mut input = seed();
        input.birth_date = Some("14/09/1976".into());
        assert!(validate(&RawWorker::from(&input), TODAY).is_ok());
        input.birth_date = Some("14/10/1976".into());
        let fields = by_json_name(validate(&RawWorker::from(&input), TODAY).unwrap_err());
        assert!(fields["birth_date"].contains("NIR"));
        input.birth_date = Some("01/01/2030".into());
        let fields = by_json_name(validate(&RawWorker::from(&input), TODAY).unwrap_err());
        assert!(fields["birth_date"].contains("futur"));
    }

    #[test]
    fn line_breaks_tabs_escapes_and_bidi_controls_are_refused_in_every_text_field() {
        for bad in [
            "\r\n",
            "\n",
            "\t",
            "\u{1b}[31m",
            "\u{0}",
            "\u{85}",
            "\u{202e}",
            "\u{2066}",
            "\u{200b}",
        ] {
            let mut input = seed();
            input.last_name = Some(format!("DIDIER{bad}X"));
            input.other_first_names = Some(format!("Anne,{bad}Marie"));
            input.job = Some(format!("Assistant{bad}dentaire"));
            input.fraction = Some(format!("Site{bad}"));
            input.sector = Some(format!("{bad}102000-Soins dentaires"));
            let fields = by_json_name(validate(&RawWorker::from(&input), TODAY).unwrap_err());
            for f in [
                "last_name",
                "other_first_names",
                "job",
                "fraction",
                "sector",
            ] {
                let m = fields
                    .get(f)
                    .unwrap_or_else(|| panic!("{bad:?} {f}: {fields:?}"));
                assert!(!m.contains("DIDIER") && !m.contains("Assistant"), "{m}");
            }
        }
    }

    #[test]
    fn text_fields_have_a_maximum_length() {
        let mut input = seed();
        input.job = Some("é".repeat(LABEL_MAX));
        input.last_name = Some("D".repeat(NAME_MAX));
        assert!(validate(&RawWorker::from(&input), TODAY).is_ok());
        input.job = Some("é".repeat(LABEL_MAX + 1));
        let fields = by_json_name(validate(&RawWorker::from(&input), TODAY).unwrap_err());
        assert_eq!(fields["job"], "Le métier ne peut dépasser 200 caractères.");
    }

    #[test]
    fn debug_hides_the_nir_and_its_key() {
        let debug = format!("{:?}", seed());
        assert!(!debug.contains("2760912346445"), "{debug}");
        assert!(!debug.contains("\"12\""), "{debug}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let error = serde_json::from_str::<WorkerInput>(r#"{"operation":"ajout","nirr":"1"}"#);
        assert!(error.is_err());
    }
}
