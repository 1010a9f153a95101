//! Form fields ↔ [`ProtocolInput`]. Field names are the paths of [`crate::protocol::FieldErrors`]
//! (`employer.siret`), except for the person being added, whose fields are `person.*` and
//! `address.*` and whose errors are keyed by their place in the list (`pcrs[0].email`).

use axum::extract::rejection::FormRejection;
use axum::Form;

use super::{csrf, WizardError};
use crate::protocol::{
    Activity, AddressInput, EmployerInput, ExposureInput, LegalRepresentativeInput, PersonInput,
    ProtocolInput, Role,
};

/// A submitted form, as name/value pairs.
#[derive(Debug, Default)]
pub(crate) struct FormData(Vec<(String, String)>);

/// Which button was pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Next,
    Prev,
    /// Add (or save the changes to) the person of the form.
    Add,
    /// Remove the person at this index.
    Delete(usize),
}

impl FormData {
    pub(crate) fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The form of a request, or a French error page for a body that is not one.
    pub(crate) fn extract(
        form: Result<Form<Vec<(String, String)>>, FormRejection>,
    ) -> Result<Self, WizardError> {
        form.map(|Form(pairs)| Self(pairs))
            .map_err(|_| WizardError::BadForm)
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed value, `None` when empty.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.raw(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// A ticked checkbox.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// `oui` / `non` radios.
    pub(crate) fn yes_no(&self, name: &str) -> Option<bool> {
        match self.get(name).as_deref() {
            Some("oui") => Some(true),
            Some("non") => Some(false),
            _ => None,
        }
    }

    pub(crate) fn csrf(&self) -> Option<&str> {
        self.raw(csrf::FIELD)
    }

    pub(crate) fn action(&self) -> Action {
        match self.raw("action").unwrap_or("next") {
            "prev" => Action::Prev,
            "add" => Action::Add,
            a => match a.strip_prefix("delete:").and_then(|i| i.parse().ok()) {
                Some(i) => Action::Delete(i),
                None => Action::Next,
            },
        }
    }

    /// The index of the person being modified, if any.
    pub(crate) fn index(&self) -> Option<usize> {
        self.get("index").and_then(|i| i.parse().ok())
    }
}

/// Seed step e: *Employeur*.
pub(crate) fn employer(form: &FormData) -> EmployerInput {
    let f = |n: &str| form.get(&format!("employer.{n}"));
    EmployerInput {
        name: f("name"),
        siret: f("siret"),
        address: f("address"),
        postal_code: f("postal_code"),
        town: f("town"),
        cedex: f("cedex"),
        country: f("country"),
        phone: f("phone"),
        phone_foreign: form.checked("employer.phone_foreign"),
        fax: f("fax"),
    }
}

/// Seed step e': *Représentant légal de l'entreprise*.
pub(crate) fn representative(form: &FormData) -> LegalRepresentativeInput {
    let f = |n: &str| form.get(&format!("legal_representative.{n}"));
    LegalRepresentativeInput {
        last_name: f("last_name"),
        first_name: f("first_name"),
        birth_date: f("birth_date"),
        mobile: f("mobile"),
        mobile_foreign: form.checked("legal_representative.mobile_foreign"),
    }
}

/// Seed steps h, i, j: the person of the add/modify form, `None` when nothing was typed.
pub(crate) fn person(form: &FormData, role: Role) -> Option<PersonInput> {
    let f = |n: &str| form.get(&format!("person.{n}"));
    let a = |n: &str| form.get(&format!("address.{n}"));
    let address = AddressInput {
        name: a("name"),
        address: a("address"),
        postal_code: a("postal_code"),
        town: a("town"),
        cedex: a("cedex"),
        country: a("country"),
    };
    // The country comes pre-filled: alone, it is not an address.
    let has_address = [
        &address.name,
        &address.address,
        &address.postal_code,
        &address.town,
        &address.cedex,
    ]
    .iter()
    .any(|v| v.is_some());
    let person = PersonInput {
        last_name: f("last_name"),
        first_name: f("first_name"),
        habilitation: f("habilitation"),
        email: f("email"),
        civility: f("civility"),
        birth_date: f("birth_date"),
        birth_departement: f("birth_departement"),
        sends_dosimetry: (role == Role::Pcr).then(|| form.checked("person.sends_dosimetry")),
        address: (role != Role::Cse && has_address).then_some(address),
    };
    let typed = [
        &person.last_name,
        &person.first_name,
        &person.habilitation,
        &person.email,
        &person.civility,
        &person.birth_date,
        &person.birth_departement,
    ]
    .iter()
    .any(|v| v.is_some())
        || has_address;
    typed.then_some(person)
}

/// Seed step l: exposure.
pub(crate) fn exposure(form: &FormData) -> ExposureInput {
    ExposureInput {
        exposed_in_establishment: form.yes_no("exposure.exposed_in_establishment"),
        inb: form.yes_no("exposure.inb"),
        domain: form
            .get("exposure.domain")
            .filter(|d| d == "civil" || d == "military"),
        // Stored as the seed's label, like the API's examples; the form sends the stable code.
        activity: form.get("exposure.activity").map(|a| {
            Activity::parse(&a)
                .map(|x| x.label().to_owned())
                .unwrap_or(a)
        }),
    }
}

/// The people list of a role.
pub(crate) fn list_mut(input: &mut ProtocolInput, role: Role) -> &mut Vec<PersonInput> {
    match role {
        Role::Cse => &mut input.correspondents,
        Role::Mdt => &mut input.physicians,
        Role::Pcr => &mut input.pcrs,
    }
}

pub(crate) fn list(input: &ProtocolInput, role: Role) -> &[PersonInput] {
    match role {
        Role::Cse => &input.correspondents,
        Role::Mdt => &input.physicians,
        Role::Pcr => &input.pcrs,
    }
}

/// The error-path prefix of a role's list.
pub(crate) fn list_key(role: Role) -> &'static str {
    match role {
        Role::Cse => "correspondents",
        Role::Mdt => "physicians",
        Role::Pcr => "pcrs",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn empty_fields_are_absent_and_checkboxes_are_presence() {
        let f = form(&[
            ("employer.name", "  Cabinet  "),
            ("employer.siret", ""),
            ("employer.phone_foreign", "on"),
        ]);
        let e = employer(&f);
        assert_eq!(e.name.as_deref(), Some("Cabinet"));
        assert_eq!(e.siret, None);
        assert!(e.phone_foreign);
    }

    #[test]
    fn a_pre_filled_country_alone_is_neither_a_person_nor_an_address() {
        assert_eq!(
            person(&form(&[("address.country", "FRANCE")]), Role::Pcr),
            None
        );
        let p = person(
            &form(&[
                ("person.last_name", "DILLENSEGER"),
                ("address.country", "FRANCE"),
                ("person.sends_dosimetry", "on"),
            ]),
            Role::Pcr,
        )
        .unwrap();
        assert_eq!(p.address, None);
        assert_eq!(p.sends_dosimetry, Some(true));
        let c = person(
            &form(&[("person.last_name", "DURAND"), ("address.town", "X")]),
            Role::Cse,
        )
        .unwrap();
        assert_eq!((c.address, c.sends_dosimetry), (None, None));
    }

    #[test]
    fn actions_and_activities_are_read_from_the_buttons_and_the_codes() {
        assert_eq!(form(&[("action", "delete:2")]).action(), Action::Delete(2));
        assert_eq!(form(&[]).action(), Action::Next);
        let x = exposure(&form(&[
            ("exposure.exposed_in_establishment", "oui"),
            ("exposure.inb", "non"),
            ("exposure.domain", "civil"),
            ("exposure.activity", "dental-care"),
        ]));
        assert_eq!(x.activity.as_deref(), Some("Soins dentaires"));
        assert_eq!(
            (x.exposed_in_establishment, x.inb),
            (Some(true), Some(false))
        );
    }
}
