//! The workers list (*Liste des travailleurs*) of an establishment: a worker's fields, the form's
//! operations, and what each role is shown.

mod fields;
pub(crate) mod input;

use serde::{Serialize, Serializer};
use time::Date;

pub use fields::{ActivityCharacter, CardNumber, Category, ContractType, WorkFraction};
pub use input::{Operation, WorkerInput};

use crate::date;
use crate::fraction::FractionFilter;
use crate::nir::Nir;
use store::text::fold;

/// A validated line of the workers list. `Debug` shows the NIR as `Nir(***)`; `Serialize` writes
/// the fields of `examples/worker.json` (without `operation` and `new_card`), NIR in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// *Numéro de carte de suivi médical*.
    pub card_number: Option<CardNumber>,
    /// *Nom de famille*.
    pub last_name: String,
    /// *Autre nom connu*.
    pub other_name: Option<String>,
    /// *Prénom*.
    pub first_name: String,
    /// *Autres prénoms*.
    pub other_first_names: Option<String>,
    /// *Numéro RNIPP* and its key.
    pub nir: Nir,
    /// *Jour de naissance*.
    pub birth_date: Option<Date>,
    /// The name of the fraction of the list the worker is in.
    pub fraction: Option<String>,
    /// *Catégorie*.
    pub category: Option<Category>,
    /// *Métier*.
    pub job: Option<String>,
    /// *Nuisance radiologique*.
    pub radiological_hazard: Option<String>,
    /// *Type de contrat*.
    pub contract_type: Option<ContractType>,
    /// *Quotité de travail*.
    pub work_fraction: Option<WorkFraction>,
    /// *Caractère de l'activité*.
    pub activity_character: Option<ActivityCharacter>,
    /// *Domaine d'activité*.
    pub domain: Option<String>,
    /// *Secteur d'activité*.
    pub sector: Option<String>,
}

impl Serialize for Worker {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let summary = Identity::of(self);
        Complete {
            identity: summary,
            contract_type: self.contract_type.map(ContractType::label),
            work_fraction: self.work_fraction,
        }
        .serialize(s)
    }
}

/// What is stored beside a worker's fields: the keys names are searched and sorted by, and the
/// birth date in its stored form. Computed apart so that an import computes it on its reading
/// thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Columns {
    pub birth_date: Option<String>,
    pub search_name: String,
    pub search_other: Option<String>,
}

impl Columns {
    pub(crate) fn of(w: &Worker) -> Self {
        Self {
            birth_date: w.birth_date.map(date::iso),
            search_name: search_key(&w.last_name, &w.first_name),
            search_other: w
                .other_name
                .as_deref()
                .map(|other| search_key(other, &w.first_name)),
        }
    }
}

/// The key a worker is searched and sorted by under one of their last names: `NOM PRÉNOM`,
/// folded.
pub(crate) fn search_key(last: &str, first: &str) -> String {
    let mut k = fold(last);
    k.push(' ');
    k.push_str(&fold(first));
    k
}

/// A worker as stored: the complete administrative view (CSE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerRecord {
    /// The registry's internal id of the worker in this establishment; never the NIR.
    pub id: i64,
    /// The id of their fraction, when in one.
    pub fraction_id: Option<i64>,
    /// True when removed from the list (*Suppression*): kept for the dose history.
    pub removed: bool,
    /// The fields.
    #[serde(flatten)]
    pub worker: Worker,
}

/// A worker as shown for dosimetric follow-up (PCR) and on the medical card (physician): the
/// complete view less the contract type and the working-time fraction (see [`crate::policy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Internal id.
    pub id: i64,
    /// The id of their fraction, when in one.
    pub fraction_id: Option<i64>,
    /// True when removed from the list.
    pub removed: bool,
    /// *Numéro de carte de suivi médical*.
    pub card_number: Option<CardNumber>,
    /// *Nom de famille*.
    pub last_name: String,
    /// *Autre nom connu*.
    pub other_name: Option<String>,
    /// *Prénom*.
    pub first_name: String,
    /// *Autres prénoms*.
    pub other_first_names: Option<String>,
    /// *Numéro RNIPP* and its key.
    pub nir: Nir,
    /// *Jour de naissance*.
    pub birth_date: Option<Date>,
    /// Fraction name.
    pub fraction: Option<String>,
    /// *Catégorie*.
    pub category: Option<Category>,
    /// *Métier*.
    pub job: Option<String>,
    /// *Nuisance radiologique*.
    pub radiological_hazard: Option<String>,
    /// *Caractère de l'activité*.
    pub activity_character: Option<ActivityCharacter>,
    /// *Domaine d'activité*.
    pub domain: Option<String>,
    /// *Secteur d'activité*.
    pub sector: Option<String>,
}

impl From<WorkerRecord> for WorkerSummary {
    fn from(r: WorkerRecord) -> Self {
        let w = r.worker;
        Self {
            id: r.id,
            fraction_id: r.fraction_id,
            removed: r.removed,
            card_number: w.card_number,
            last_name: w.last_name,
            other_name: w.other_name,
            first_name: w.first_name,
            other_first_names: w.other_first_names,
            nir: w.nir,
            birth_date: w.birth_date,
            fraction: w.fraction,
            category: w.category,
            job: w.job,
            radiological_hazard: w.radiological_hazard,
            activity_character: w.activity_character,
            domain: w.domain,
            sector: w.sector,
        }
    }
}

impl Serialize for WorkerSummary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            id: i64,
            fraction_id: Option<i64>,
            removed: bool,
            #[serde(flatten)]
            identity: Identity<'a>,
        }
        Out {
            id: self.id,
            fraction_id: self.fraction_id,
            removed: self.removed,
            identity: Identity {
                card_number: self.card_number.as_ref().map(CardNumber::as_str),
                last_name: &self.last_name,
                other_name: self.other_name.as_deref(),
                first_name: &self.first_name,
                other_first_names: self.other_first_names.as_deref(),
                nir: self.nir.as_str(),
                nir_key: self.nir.key(),
                birth_date: self.birth_date.map(date::french),
                fraction: self.fraction.as_deref(),
                category: self.category.map(Category::label),
                job: self.job.as_deref(),
                radiological_hazard: self.radiological_hazard.as_deref(),
                activity_character: self.activity_character.map(ActivityCharacter::label),
                domain: self.domain.as_deref(),
                sector: self.sector.as_deref(),
            },
        }
        .serialize(s)
    }
}

/// The fields both views share, in the order of `examples/worker.json`.
#[derive(Serialize)]
struct Identity<'a> {
    card_number: Option<&'a str>,
    last_name: &'a str,
    other_name: Option<&'a str>,
    first_name: &'a str,
    other_first_names: Option<&'a str>,
    nir: &'a str,
    nir_key: &'a str,
    birth_date: Option<String>,
    fraction: Option<&'a str>,
    category: Option<&'static str>,
    job: Option<&'a str>,
    radiological_hazard: Option<&'a str>,
    activity_character: Option<&'static str>,
    domain: Option<&'a str>,
    sector: Option<&'a str>,
}

impl<'a> Identity<'a> {
    fn of(w: &'a Worker) -> Self {
        Self {
            card_number: w.card_number.as_ref().map(CardNumber::as_str),
            last_name: &w.last_name,
            other_name: w.other_name.as_deref(),
            first_name: &w.first_name,
            other_first_names: w.other_first_names.as_deref(),
            nir: w.nir.as_str(),
            nir_key: w.nir.key(),
            birth_date: w.birth_date.map(date::french),
            fraction: w.fraction.as_deref(),
            category: w.category.map(Category::label),
            job: w.job.as_deref(),
            radiological_hazard: w.radiological_hazard.as_deref(),
            activity_character: w.activity_character.map(ActivityCharacter::label),
            domain: w.domain.as_deref(),
            sector: w.sector.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Complete<'a> {
    #[serde(flatten)]
    identity: Identity<'a>,
    contract_type: Option<&'static str>,
    work_fraction: Option<WorkFraction>,
}

/// A worker as the caller may see them: which variant depends on the caller's role in the
/// establishment ([`crate::policy::identity_views`]). Serialized with `"view": "complete"` or
/// `"view": "dosimetry"` beside the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum WorkerView {
    /// Every field (CSE).
    Complete(WorkerRecord),
    /// The fields for dosimetric follow-up (PCR, and the physician through the card).
    Dosimetry(WorkerSummary),
}

impl WorkerView {
    /// The internal id, whatever the view.
    pub fn id(&self) -> i64 {
        match self {
            Self::Complete(r) => r.id,
            Self::Dosimetry(s) => s.id,
        }
    }

    /// The last name, whatever the view.
    pub fn last_name(&self) -> &str {
        match self {
            Self::Complete(r) => &r.worker.last_name,
            Self::Dosimetry(s) => &s.last_name,
        }
    }
}

/// How a request names a worker of an establishment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerRef {
    /// The registry's internal id (from a list or a search).
    Id(i64),
    /// The NIR, as a dosimetry body knows the workers it measures.
    Nir(Nir),
    /// The medical follow-up card number.
    Card(CardNumber),
}

/// A search of the workers list. Criteria combine (AND); none lists the whole list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerQuery {
    /// Prefix of the last name or of the other known name, optionally followed by the start of
    /// the first name (`did`, `Didier val`), accents and case ignored.
    pub name: Option<String>,
    /// The NIR, exactly: 13 characters, or 15 with the key (the key is then checked).
    pub nir: Option<String>,
    /// Restrict to one fraction, or to the workers in none.
    pub fraction: FractionFilter,
    /// Include the workers removed from the list.
    pub include_removed: bool,
    /// Keyset pagination: the `next` of the previous page.
    pub after: Option<i64>,
    /// Random access: how many results to skip, in name order (0: from the start). Cannot be
    /// combined with [`after`](Self::after): such a query is refused (`Invalid`, field
    /// `offset`). A page found this way still has its [`Page::next`], to go on by key.
    pub offset: u64,
    /// Page size; 50 when 0, at most 500.
    pub limit: u32,
}

impl WorkerQuery {
    /// The page size actually used.
    pub fn page_size(&self) -> u32 {
        match self.limit {
            0 => 50,
            n => n.min(500),
        }
    }
}

/// One page of results, in name order (last name, then first name, then id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    /// The results.
    pub items: Vec<T>,
    /// Pass as [`WorkerQuery::after`] for the next page; `None` on the last one.
    pub next: Option<i64>,
}

/// What an operation on the list did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The operation done.
    pub operation: Operation,
    /// The worker's internal id.
    pub worker_id: i64,
    /// Their card number after the operation (the new one when *Nouvelle carte* was ticked).
    pub card_number: Option<CardNumber>,
}
