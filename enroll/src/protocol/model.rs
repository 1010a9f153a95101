//! The protocol that can only hold valid values, and the rules that span fields.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::activity::Activity;
use super::input::{AddressInput, PersonInput, ProtocolInput};
use store::text::TextError;

use crate::{
    Civility, Departement, DomainError, Email, FrenchDate, HabilitationNumber, MobileNumber,
    PersonName, PhoneNumber, PostalCode, Siret,
};

/// Field errors: path (`employer.siret`, `pcrs[0].email`) → a French message for people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

#[cfg(test)]
mod under_tests {
    use super::FieldErrors;

    #[test]
    fn under_keeps_a_path_and_what_lies_below_it_only() {
        let e = FieldErrors(
            [
                ("correspondents[1].email", "a"),
                ("correspondents[10].email", "b"),
                ("correspondents", "c"),
                ("employer.siret", "d"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        );
        let one: Vec<_> = e.under("correspondents[1]").0.into_keys().collect();
        assert_eq!(one, ["correspondents[1].email"]);
        assert_eq!(e.under("correspondents").0.len(), 3);
        assert_eq!(e.under("employer").0.len(), 1);
        assert_eq!(e.under("employer.").0.len(), 1);
    }
}

impl FieldErrors {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.entry(path.into()).or_insert_with(|| message.into());
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for one field.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }

    /// Keeps only the errors under `prefix` (one wizard step): the path itself and what lies
    /// below it, so that `correspondents[1]` does not take `correspondents[10]`'s errors.
    pub fn under(&self, prefix: &str) -> FieldErrors {
        let below = |k: &str| {
            k.strip_prefix(prefix).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with(['.', '[']) || prefix.ends_with(['.', '['])
            })
        };
        FieldErrors(
            self.0
                .iter()
                .filter(|(k, _)| below(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<_> = self.0.iter().map(|(k, v)| format!("{k} : {v}")).collect();
        f.write_str(&parts.join(" ; "))
    }
}

/// The three roles an accessor may hold in an establishment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Role {
    /// *Correspondant SISERI de l'employeur*.
    Cse,
    /// *Personne compétente en radioprotection*.
    Pcr,
    /// *Médecin du travail*.
    Mdt,
}

impl Role {
    /// Stored and typed form: `CSE`, `PCR`, `MDT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cse => "CSE",
            Self::Pcr => "PCR",
            Self::Mdt => "MDT",
        }
    }

    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Cse => "Correspondant SISERI",
            Self::Pcr => "Personne compétente en radioprotection",
            Self::Mdt => "Médecin du travail",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CSE" => Some(Self::Cse),
            "PCR" => Some(Self::Pcr),
            "MDT" => Some(Self::Mdt),
            _ => None,
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    /// Company name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postal code (5 digits in France, free abroad).
    pub postal_code: String,
    /// Town.
    pub town: String,
    /// Cedex.
    pub cedex: Option<String>,
    /// Country.
    pub country: String,
}

/// The employer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Employer {
    /// Name and address.
    pub address: Address,
    /// SIRET, when given.
    pub siret: Option<Siret>,
    /// Phone, E.164.
    pub phone: Option<PhoneNumber>,
    /// Fax, E.164.
    pub fax: Option<PhoneNumber>,
}

/// The legal representative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalRepresentative {
    /// Last name.
    pub last_name: PersonName,
    /// First name.
    pub first_name: PersonName,
    /// Birth date.
    pub birth_date: Option<FrenchDate>,
    /// Mobile, where the signature code goes.
    pub mobile: MobileNumber,
}

/// Who a person is when they have no habilitation number yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// M. or Mme.
    pub civility: Civility,
    /// Birth date.
    pub birth_date: FrenchDate,
    /// Birth département.
    pub birth_departement: Departement,
}

/// A person designated for a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Designee {
    /// The role.
    pub role: Role,
    /// Last name.
    pub last_name: PersonName,
    /// First name.
    pub first_name: PersonName,
    /// N° habilitation SISERI, when known.
    pub habilitation: Option<HabilitationNumber>,
    /// E-mail, where the withdrawal and access-code e-mails go.
    pub email: Email,
    /// Civility, birth date and département (required without a habilitation number).
    pub identity: Option<Identity>,
    /// Their own address, when it differs from the employer's.
    pub address: Option<Address>,
    /// PCR only: sends dosimetric information.
    pub sends_dosimetry: bool,
}

/// Civil or military domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Domain {
    /// *Domaine civil*.
    Civil,
    /// *Domaine militaire*.
    Military,
}

/// Exposure of the establishment's workers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    /// Workers exposed inside the establishment.
    pub exposed_in_establishment: bool,
    /// The establishment is an INB.
    pub inb: bool,
    /// Civil or military.
    pub domain: Domain,
    /// Main activity.
    pub activity: Activity,
}

/// A complete, valid protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protocol {
    /// The employer.
    pub employer: Employer,
    /// The legal representative.
    pub legal_representative: LegalRepresentative,
    /// Correspondents.
    pub correspondents: Vec<Designee>,
    /// Physicians.
    pub physicians: Vec<Designee>,
    /// PCR.
    pub pcrs: Vec<Designee>,
    /// Exposure.
    pub exposure: Exposure,
}

impl Protocol {
    /// Every designee, correspondents first.
    pub fn designees(&self) -> impl Iterator<Item = &Designee> {
        self.correspondents
            .iter()
            .chain(&self.physicians)
            .chain(&self.pcrs)
    }

    /// Parses a whole protocol; every wrong field is reported, not only the first.
    pub fn parse(input: &ProtocolInput) -> Result<Protocol, FieldErrors> {
        let mut errors = FieldErrors::default();
        let employer = parse_employer(input, &mut errors);
        let legal_representative = parse_legal_representative(input, &mut errors);
        let mut people = |list: &[PersonInput], role: Role, path: &str| {
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| parse_person(p, role, &format!("{path}[{i}]"), &mut errors))
                .collect::<Vec<_>>()
        };
        let correspondents = people(&input.correspondents, Role::Cse, "correspondents");
        let physicians = people(&input.physicians, Role::Mdt, "physicians");
        let pcrs = people(&input.pcrs, Role::Pcr, "pcrs");
        if input.correspondents.is_empty() {
            errors.add(
                "correspondents",
                "Désignez au moins un correspondant SISERI.",
            );
        }
        if input.physicians.is_empty() && input.pcrs.is_empty() {
            errors.add(
                "pcrs",
                "Vous devez obligatoirement désigner une personne compétente en radioprotection ou un médecin du travail.",
            );
        }
        let exposure = parse_exposure(input, &mut errors);
        match (employer, legal_representative, exposure) {
            (Some(employer), Some(legal_representative), Some(exposure)) if errors.is_empty() => {
                Ok(Protocol {
                    employer,
                    legal_representative,
                    correspondents,
                    physicians,
                    pcrs,
                    exposure,
                })
            }
            _ => Err(errors),
        }
    }
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The value as typed when it is not blank: free texts and names are checked whole, so that
/// a line break or a control character at an end is refused rather than trimmed away.
fn typed(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.trim().is_empty())
}

fn required<'a>(
    value: &'a Option<String>,
    path: &str,
    label: &str,
    errors: &mut FieldErrors,
) -> Option<&'a str> {
    let v = typed(value);
    if v.is_none() {
        errors.add(path, format!("{label} est obligatoire."));
    }
    v
}

fn domain<T>(result: Result<T, DomainError>, path: &str, errors: &mut FieldErrors) -> Option<T> {
    result.map_err(|e| errors.add(path, e.to_string())).ok()
}

fn is_france(country: &str) -> bool {
    matches!(country.trim().to_uppercase().as_str(), "FRANCE" | "FR")
}

/// Longest *raison sociale ou nom*, in characters.
pub const COMPANY_MAX: usize = 150;
/// Longest *adresse postale* (one line).
pub const ADDRESS_MAX: usize = 200;
/// Longest *ville*.
pub const TOWN_MAX: usize = 100;
/// Longest *cedex* (`9`, `STRASBOURG CEDEX 2`…).
pub const CEDEX_MAX: usize = 40;
/// Longest *pays*.
pub const COUNTRY_MAX: usize = 60;
/// Longest postal code abroad (a French one is 5 digits).
pub const FOREIGN_POSTAL_CODE_MAX: usize = 16;

/// A single-line free text ([`store::text::label`]: no line break, control or invisible
/// character, at most `max` characters), the refusal worded with the field's `subject`.
fn line(
    value: &str,
    path: &str,
    subject: &str,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    match store::text::label(value, max) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.add(
                path,
                match e {
                    TextError::Empty => format!("{subject} est obligatoire."),
                    TextError::TooLong(max) => {
                        format!("{subject} ne doit pas dépasser {max} caractères.")
                    }
                    TextError::Characters => format!(
                        "{subject} ne peut contenir ni retour à la ligne, ni tabulation, ni \
                         caractère de contrôle ou invisible."
                    ),
                },
            );
            None
        }
    }
}

fn parse_address(a: &AddressInput, path: &str, errors: &mut FieldErrors) -> Option<Address> {
    let mut checked = |value: &Option<String>, field: &str, subject: &str, max: usize| {
        let path = format!("{path}.{field}");
        required(value, &path, subject, errors).and_then(|v| line(v, &path, subject, max, errors))
    };
    let name = checked(&a.name, "name", "La raison sociale ou le nom", COMPANY_MAX);
    let address = checked(&a.address, "address", "L'adresse postale", ADDRESS_MAX);
    let town = checked(&a.town, "town", "La ville", TOWN_MAX);
    // Optional: `None` when left blank, `Some(None)` when refused.
    let mut optional = |value: &Option<String>, field: &str, subject: &str, max: usize| {
        typed(value).map(|v| line(v, &format!("{path}.{field}"), subject, max, errors))
    };
    let country = optional(&a.country, "country", "Le pays", COUNTRY_MAX);
    let cedex = optional(&a.cedex, "cedex", "Le cedex", CEDEX_MAX);
    let france = is_france(country.clone().flatten().as_deref().unwrap_or("FRANCE"));
    let postal_code = required(
        &a.postal_code,
        &format!("{path}.postal_code"),
        "Le code postal",
        errors,
    )
    .and_then(|pc| {
        let path = format!("{path}.postal_code");
        if france {
            domain(PostalCode::parse(pc), &path, errors).map(|p| p.as_str().to_owned())
        } else {
            line(pc, &path, "Le code postal", FOREIGN_POSTAL_CODE_MAX, errors)
        }
    });
    Some(Address {
        name: name?,
        address: address?,
        postal_code: postal_code?,
        town: town?,
        cedex: match cedex {
            Some(None) => return None,
            Some(c) => c,
            None => None,
        },
        country: match country {
            Some(None) => return None,
            Some(Some(c)) => c.to_uppercase(),
            None => "FRANCE".to_owned(),
        },
    })
}

fn parse_employer(input: &ProtocolInput, errors: &mut FieldErrors) -> Option<Employer> {
    let e = &input.employer;
    let country_missing = text(&e.country).is_none();
    if country_missing {
        errors.add("employer.country", "Le pays est obligatoire.");
    }
    let address = parse_address(
        &AddressInput {
            name: e.name.clone(),
            address: e.address.clone(),
            postal_code: e.postal_code.clone(),
            town: e.town.clone(),
            cedex: e.cedex.clone(),
            country: e.country.clone(),
        },
        "employer",
        errors,
    );
    let siret = text(&e.siret).and_then(|s| domain(Siret::parse(s), "employer.siret", errors));
    let phone = text(&e.phone).and_then(|p| {
        domain(
            PhoneNumber::parse(p, e.phone_foreign),
            "employer.phone",
            errors,
        )
    });
    let fax = text(&e.fax).and_then(|p| {
        domain(
            PhoneNumber::parse(p, e.phone_foreign),
            "employer.fax",
            errors,
        )
    });
    if country_missing {
        return None;
    }
    Some(Employer {
        address: address?,
        siret: match (text(&e.siret), siret) {
            (Some(_), None) => return None,
            (_, s) => s,
        },
        phone: match (text(&e.phone), phone) {
            (Some(_), None) => return None,
            (_, p) => p,
        },
        fax: match (text(&e.fax), fax) {
            (Some(_), None) => return None,
            (_, f) => f,
        },
    })
}

fn parse_legal_representative(
    input: &ProtocolInput,
    errors: &mut FieldErrors,
) -> Option<LegalRepresentative> {
    let l = &input.legal_representative;
    let p = "legal_representative";
    let last = required(&l.last_name, &format!("{p}.last_name"), "Le nom", errors)
        .and_then(|s| domain(PersonName::parse(s), &format!("{p}.last_name"), errors));
    let first = required(
        &l.first_name,
        &format!("{p}.first_name"),
        "Le prénom",
        errors,
    )
    .and_then(|s| domain(PersonName::parse(s), &format!("{p}.first_name"), errors));
    let birth = text(&l.birth_date)
        .map(|s| domain(FrenchDate::parse(s), &format!("{p}.birth_date"), errors));
    let mobile = required(
        &l.mobile,
        &format!("{p}.mobile"),
        "Le téléphone portable",
        errors,
    )
    .and_then(|s| {
        domain(
            MobileNumber::parse(s, l.mobile_foreign),
            &format!("{p}.mobile"),
            errors,
        )
    });
    Some(LegalRepresentative {
        last_name: last?,
        first_name: first?,
        birth_date: match birth {
            Some(None) => return None,
            Some(Some(d)) => Some(d),
            None => None,
        },
        mobile: mobile?,
    })
}

fn parse_person(
    input: &PersonInput,
    role: Role,
    path: &str,
    errors: &mut FieldErrors,
) -> Option<Designee> {
    let last = required(
        &input.last_name,
        &format!("{path}.last_name"),
        "Le nom",
        errors,
    )
    .and_then(|s| domain(PersonName::parse(s), &format!("{path}.last_name"), errors));
    let first = required(
        &input.first_name,
        &format!("{path}.first_name"),
        "Le prénom",
        errors,
    )
    .and_then(|s| domain(PersonName::parse(s), &format!("{path}.first_name"), errors));
    let email = required(
        &input.email,
        &format!("{path}.email"),
        "Le courriel",
        errors,
    )
    .and_then(|s| domain(Email::parse(s), &format!("{path}.email"), errors));
    let habilitation = text(&input.habilitation).map(|s| {
        domain(
            HabilitationNumber::parse(s),
            &format!("{path}.habilitation"),
            errors,
        )
    });
    let needs_identity = habilitation.is_none();
    let civility = text(&input.civility)
        .map(|s| domain(Civility::parse(s), &format!("{path}.civility"), errors));
    let birth_date = text(&input.birth_date)
        .map(|s| domain(FrenchDate::parse(s), &format!("{path}.birth_date"), errors));
    let departement = text(&input.birth_departement).map(|s| {
        domain(
            Departement::parse(s),
            &format!("{path}.birth_departement"),
            errors,
        )
    });
    if needs_identity {
        let hint = "est obligatoire en l'absence de N° habilitation SISERI.";
        if civility.is_none() {
            errors.add(format!("{path}.civility"), format!("La civilité {hint}"));
        }
        if birth_date.is_none() {
            errors.add(
                format!("{path}.birth_date"),
                format!("La date de naissance {hint}"),
            );
        }
        if departement.is_none() {
            errors.add(
                format!("{path}.birth_departement"),
                format!("Le département de naissance {hint}"),
            );
        }
    }
    let address = match &input.address {
        Some(a) if a != &AddressInput::default() && role != Role::Cse => {
            Some(parse_address(a, &format!("{path}.address"), errors)?)
        }
        _ => None,
    };
    let identity = match (civility, birth_date, departement) {
        (Some(Some(civility)), Some(Some(birth_date)), Some(Some(birth_departement))) => {
            Some(Identity {
                civility,
                birth_date,
                birth_departement,
            })
        }
        (Some(None), _, _) | (_, Some(None), _) | (_, _, Some(None)) => return None,
        _ if needs_identity => return None,
        _ => None,
    };
    let (last, first, email) = (last?, first?, email?);
    // What approval will need of this person, checked now so that a signed protocol can
    // always be approved.
    if let Err(u) = crate::access::check_issuable(first.as_str(), last.as_str(), email.as_str()) {
        errors.add(format!("{path}.{}", u.field.key()), u.reason);
        return None;
    }
    Some(Designee {
        role,
        last_name: last,
        first_name: first,
        habilitation: match habilitation {
            Some(None) => return None,
            Some(h) => h,
            None => None,
        },
        email,
        identity,
        address,
        sends_dosimetry: role == Role::Pcr && input.sends_dosimetry.unwrap_or(false),
    })
}

fn parse_exposure(input: &ProtocolInput, errors: &mut FieldErrors) -> Option<Exposure> {
    let e = &input.exposure;
    let exposed = e.exposed_in_establishment;
    if exposed.is_none() {
        errors.add(
            "exposure.exposed_in_establishment",
            "Indiquez si les travailleurs sont exposés au sein de votre établissement.",
        );
    }
    let inb = match (exposed, e.inb) {
        (Some(true), None) => {
            errors.add(
                "exposure.inb",
                "Indiquez si votre établissement est une INB.",
            );
            None
        }
        (Some(true), Some(inb)) => Some(inb),
        _ => Some(false),
    };
    let domain = match text(&e.domain).map(str::to_lowercase).as_deref() {
        Some("civil") | Some("civile") => Some(Domain::Civil),
        Some("military") | Some("militaire") => Some(Domain::Military),
        _ => {
            errors.add(
                "exposure.domain",
                "Choisissez le domaine civil ou militaire.",
            );
            None
        }
    };
    let activity = match text(&e.activity) {
        Some(a) => match Activity::parse(a) {
            Some(a) => Some(a),
            None => {
                errors.add(
                    "exposure.activity",
                    "Choisissez l'activité principale dans la liste.",
                );
                None
            }
        },
        None => {
            errors.add(
                "exposure.activity",
                "L'activité principale est obligatoire.",
            );
            None
        }
    };
    Some(Exposure {
        exposed_in_establishment: exposed?,
        inb: inb?,
        domain: domain?,
        activity: activity?,
    })
}
