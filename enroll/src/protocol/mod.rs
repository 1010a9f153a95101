//! The *protocole d'accès sécurisé*: what people type, what is valid, what is signed.

mod activity;
mod annexe;
#[cfg(test)]
mod annexe_roundtrip;
mod input;
mod model;
mod pdf;

pub use activity::Activity;
pub use annexe::{Annexe, Section, ACCEPTANCE};
pub use input::{
    AddressInput, EmployerInput, ExposureInput, LegalRepresentativeInput, PersonInput,
    ProtocolInput,
};
pub use model::{
    Address, Designee, Domain, Employer, Exposure, FieldErrors, Identity, LegalRepresentative,
    Protocol, Role,
};
pub use pdf::{annexe_pdf, SignatureEvidence};

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> ProtocolInput {
        serde_json::from_str(include_str!("../../tests/data/protocol.json")).unwrap()
    }

    #[test]
    fn the_seeds_example_is_a_valid_protocol() {
        let p = Protocol::parse(&seed()).unwrap();
        assert_eq!(
            p.employer.address.name,
            "Cabinet dentaire du Dr DURAND Vincent"
        );
        assert_eq!(p.legal_representative.mobile.e164(), "+33712123241");
        assert_eq!(p.designees().count(), 3);
        assert!(p.pcrs[0].sends_dosimetry);
        assert_eq!(p.exposure.activity, Activity::DentalCare);
        assert_eq!(p.physicians[0].address.as_ref().unwrap().town, "STRASBOURG");
    }

    #[test]
    fn a_protocol_needs_a_correspondent_and_a_pcr_or_a_physician() {
        let mut input = seed();
        input.correspondents.clear();
        input.physicians.clear();
        input.pcrs.clear();
        let errors = Protocol::parse(&input).unwrap_err();
        assert!(errors
            .get("correspondents")
            .unwrap()
            .contains("au moins un correspondant"));
        assert!(errors.get("pcrs").unwrap().contains("obligatoirement"));
    }

    #[test]
    fn a_person_without_habilitation_needs_civility_birth_date_and_departement() {
        let mut input = seed();
        input.pcrs[0].civility = None;
        input.pcrs[0].birth_date = None;
        input.pcrs[0].birth_departement = None;
        let errors = Protocol::parse(&input).unwrap_err();
        for f in ["civility", "birth_date", "birth_departement"] {
            assert!(
                errors
                    .get(&format!("pcrs[0].{f}"))
                    .unwrap()
                    .contains("habilitation"),
                "{errors}"
            );
        }
        input.pcrs[0].habilitation = Some("42003".into());
        assert!(Protocol::parse(&input).is_ok());
    }

    #[test]
    fn every_wrong_field_is_reported_in_french_without_echoing_it() {
        let mut input = seed();
        input.employer.siret = Some("73282932000079".into());
        input.employer.postal_code = Some("6700".into());
        input.legal_representative.mobile = Some("03 88 00 00 00".into());
        input.correspondents[0].email = Some("pas-une-adresse".into());
        input.exposure.activity = Some("Boulangerie".into());
        let errors = Protocol::parse(&input).unwrap_err();
        for path in [
            "employer.siret",
            "employer.postal_code",
            "legal_representative.mobile",
            "correspondents[0].email",
            "exposure.activity",
        ] {
            let m = errors
                .get(path)
                .unwrap_or_else(|| panic!("{path}: {errors}"));
            for bad in [
                "73282932000079",
                "6700",
                "03 88",
                "pas-une-adresse",
                "Boulangerie",
            ] {
                assert!(!m.contains(bad), "{m}");
            }
        }
    }

    #[test]
    fn the_annexe_text_names_everyone_and_its_hash_follows_any_change() {
        let p = Protocol::parse(&seed()).unwrap();
        let annexe = Annexe::of(&p, None);
        let text = annexe.text();
        for needle in [
            "Cabinet dentaire du Dr DURAND Vincent",
            "DILLENSEGER Pierre",
            "MARTIN Claire",
            "Soins dentaires",
            ACCEPTANCE,
        ] {
            assert!(text.contains(needle), "{needle}\n{text}");
        }
        assert!(!text.contains("+33712123241"), "the mobile is masked");
        let mut changed = seed();
        changed.physicians[0].email = Some("autre@sst-alsace.example".into());
        let other = Annexe::of(&Protocol::parse(&changed).unwrap(), None);
        assert_ne!(annexe.sha256(), other.sha256());
        assert_eq!(annexe.sha256(), Annexe::of(&p, None).sha256());
        assert_eq!(Annexe::from_text(&text), annexe, "the text reads back");
    }

    #[test]
    fn free_text_with_a_line_break_escape_or_bidi_control_is_refused_in_french_without_echo() {
        for (bad, what) in [
            ("Cabinet\r\nN° SIRET : 00000000000000", "CR LF"),
            ("Cabinet \u{1b}[2J", "ESC"),
            ("Cabinet \u{202e}tnaruD", "RLO"),
            ("Cabinet\u{2028}Durand", "LS"),
            ("Cabinet\u{0}", "NUL"),
        ] {
            let mut input = seed();
            input.employer.name = Some(bad.into());
            input.employer.address = Some(format!("8 rue {bad}"));
            input.pcrs[0].address.as_mut().unwrap().town = Some(bad.into());
            input.legal_representative.last_name = Some(format!("DURAND{}", &bad[7..]));
            let errors = Protocol::parse(&input).unwrap_err();
            for path in [
                "employer.name",
                "employer.address",
                "pcrs[0].address.town",
                "legal_representative.last_name",
            ] {
                let m = errors
                    .get(path)
                    .unwrap_or_else(|| panic!("{what} {path}: {errors}"));
                assert!(!m.contains("Cabinet") && !m.contains("Durand"), "{m}");
            }
            assert!(errors
                .get("employer.name")
                .unwrap()
                .contains("retour à la ligne"));
        }
    }

    #[test]
    fn every_free_field_has_a_maximum_length_and_is_accepted_at_it() {
        let mut input = seed();
        input.employer.name = Some("N".repeat(model::COMPANY_MAX));
        input.employer.address = Some("é".repeat(model::ADDRESS_MAX));
        input.employer.town = Some("T".repeat(model::TOWN_MAX));
        input.employer.cedex = Some("9".repeat(model::CEDEX_MAX));
        let physician = input.physicians[0].address.as_mut().unwrap();
        physician.country = Some("Ü".repeat(model::COUNTRY_MAX));
        physician.postal_code = Some("P".repeat(model::FOREIGN_POSTAL_CODE_MAX));
        input.legal_representative.last_name = Some("L".repeat(store::text::NAME_MAX));
        let p = Protocol::parse(&input).unwrap();
        let text = Annexe::of(&p, None).text();
        assert_eq!(Annexe::from_text(&text).text(), text);

        let mut long = input.clone();
        long.employer.address = Some("a".repeat(1_900_000));
        long.employer.name = Some("N".repeat(model::COMPANY_MAX + 1));
        long.physicians[0].address.as_mut().unwrap().postal_code =
            Some("P".repeat(model::FOREIGN_POSTAL_CODE_MAX + 1));
        let errors = Protocol::parse(&long).unwrap_err();
        assert_eq!(
            errors.get("employer.address"),
            Some("L'adresse postale ne doit pas dépasser 200 caractères.")
        );
        assert_eq!(
            errors.get("employer.name"),
            Some("La raison sociale ou le nom ne doit pas dépasser 150 caractères.")
        );
        assert!(
            errors.get("physicians[0].address.postal_code").is_some(),
            "{errors}"
        );
    }
}
