//! The protocol as people type it (JSON body of the API, or the wizard's forms): every field
//! optional so that a draft can be saved half-filled. [`super::Protocol::parse`] turns it into
//! a protocol that can only hold valid values.

use serde::{Deserialize, Deserializer, Serialize};

/// A whole protocol, possibly incomplete.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProtocolInput {
    /// The employer (head office or main establishment).
    pub employer: EmployerInput,
    /// The legal representative, who signs.
    pub legal_representative: LegalRepresentativeInput,
    /// Correspondents (CSE).
    pub correspondents: Vec<PersonInput>,
    /// Occupational physicians (MDT).
    pub physicians: Vec<PersonInput>,
    /// Radiation protection officers (PCR).
    pub pcrs: Vec<PersonInput>,
    /// Exposure of the establishment's workers.
    pub exposure: ExposureInput,
}

/// Seed step e: *Employeur*.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmployerInput {
    /// *Raison sociale ou nom* (required).
    pub name: Option<String>,
    /// *Numéro SIRET*.
    pub siret: Option<String>,
    /// *Adresse postale* (required).
    pub address: Option<String>,
    /// *Code postal* (required).
    pub postal_code: Option<String>,
    /// *Ville* (required).
    pub town: Option<String>,
    /// *Cedex*.
    pub cedex: Option<String>,
    /// *Pays* (required).
    pub country: Option<String>,
    /// *Téléphone*.
    pub phone: Option<String>,
    /// *Étranger* box of the phone.
    pub phone_foreign: bool,
    /// *Télécopie*.
    pub fax: Option<String>,
}

/// Seed step e: *Représentant légal de l'entreprise*.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LegalRepresentativeInput {
    /// *Nom* (required).
    pub last_name: Option<String>,
    /// *Prénom* (required).
    pub first_name: Option<String>,
    /// *Date de naissance (jj/mm/aaaa)*.
    pub birth_date: Option<String>,
    /// *Téléphone portable* (required): the SMS signature code goes there.
    pub mobile: Option<String>,
    /// *Étranger* box of the mobile.
    pub mobile_foreign: bool,
}

/// Seed steps h, i, j: a correspondent, physician or PCR.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersonInput {
    /// *Nom* (required).
    pub last_name: Option<String>,
    /// *Prénom* (required).
    pub first_name: Option<String>,
    /// *N° habilitation SISERI*, when the person already has one.
    #[serde(deserialize_with = "string_or_number")]
    pub habilitation: Option<String>,
    /// *Courriel* (required).
    pub email: Option<String>,
    /// *Civilité* (`M` or `Mme`), required without a habilitation number.
    pub civility: Option<String>,
    /// *Date de naissance*, required without a habilitation number.
    pub birth_date: Option<String>,
    /// *Département de naissance*, required without a habilitation number.
    pub birth_departement: Option<String>,
    /// PCR only: *Envoi des informations dosimétriques*.
    pub sends_dosimetry: Option<bool>,
    /// Physicians and PCR: their own address when it differs from the employer's.
    pub address: Option<AddressInput>,
}

/// *Coordonnées (si différentes de celles de l'employeur)*.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddressInput {
    /// *Raison sociale ou nom*.
    pub name: Option<String>,
    /// *Adresse postale*.
    pub address: Option<String>,
    /// *Code postal*.
    pub postal_code: Option<String>,
    /// *Ville*.
    pub town: Option<String>,
    /// *Cedex*.
    pub cedex: Option<String>,
    /// *Pays*.
    pub country: Option<String>,
}

/// Seed step l: exposure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExposureInput {
    /// Are workers exposed inside the establishment?
    pub exposed_in_establishment: Option<bool>,
    /// If so, is the establishment a basic nuclear installation (INB)?
    pub inb: Option<bool>,
    /// `civil` or `military`.
    pub domain: Option<String>,
    /// The main activity, from the seed's list.
    pub activity: Option<String>,
}

/// People type habilitation numbers; scripts may send them as JSON numbers.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        N(u64),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::S(s)) => Some(s),
        Some(Raw::N(n)) => Some(n.to_string()),
    })
}
