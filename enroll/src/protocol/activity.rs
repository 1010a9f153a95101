//! The seed's list of main activities (step l), in its order.

use serde::{Deserialize, Serialize};

/// *Activités entraînant une exposition aux rayonnements de vos travailleurs*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Activity {
    Radiodiagnostic,
    DentalCare,
    OccupationalMedicine,
    InterventionalRadiology,
    Radiotherapy,
    NuclearMedicine,
    MedicalLaboratories,
    BloodIrradiation,
    MedicalResearch,
    VeterinaryMedicine,
    MedicalLogistics,
    OtherMedical,
    RadioactiveTransport,
    Industrial,
    NaturalSources,
    Nuclear,
    Other,
}

impl Activity {
    /// Every activity, in the seed's order.
    pub const ALL: [Activity; 17] = [
        Self::Radiodiagnostic,
        Self::DentalCare,
        Self::OccupationalMedicine,
        Self::InterventionalRadiology,
        Self::Radiotherapy,
        Self::NuclearMedicine,
        Self::MedicalLaboratories,
        Self::BloodIrradiation,
        Self::MedicalResearch,
        Self::VeterinaryMedicine,
        Self::MedicalLogistics,
        Self::OtherMedical,
        Self::RadioactiveTransport,
        Self::Industrial,
        Self::NaturalSources,
        Self::Nuclear,
        Self::Other,
    ];

    /// The label of the seed's list.
    pub fn label(self) -> &'static str {
        match self {
            Self::Radiodiagnostic => "Radiodiagnostic",
            Self::DentalCare => "Soins dentaires",
            Self::OccupationalMedicine => "Médecine du travail et dispensaires",
            Self::InterventionalRadiology => {
                "Radiologie interventionnelle (bloc opératoire inclus)"
            }
            Self::Radiotherapy => "Radiothérapie",
            Self::NuclearMedicine => "Médecine nucléaire",
            Self::MedicalLaboratories => "Laboratoires d'analyse médicale avec radio immunologie",
            Self::BloodIrradiation => "Irradiation de produits sanguins",
            Self::MedicalResearch => "Recherche médicale vétérinaire et pharmaceutique",
            Self::VeterinaryMedicine => "Médecine vétérinaire",
            Self::MedicalLogistics => "Logistique et maintenance du médical (prestataires)",
            Self::OtherMedical => "Autres utilisations médicales et vétérinaires",
            Self::RadioactiveTransport => "Transport de matières radioactives",
            Self::Industrial => "Usages industriels et de services (hors entreprises de transport)",
            Self::NaturalSources => "Sources naturelles",
            Self::Nuclear => "Nucléaire",
            Self::Other => "Autres domaines",
        }
    }

    /// True for the seed's group *Utilisations médicales et vétérinaires*.
    pub fn is_medical(self) -> bool {
        (self as usize) <= (Self::OtherMedical as usize)
    }

    /// The stable code (`dental-care`), as the API may send it.
    pub fn code(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// From the seed's label (case and accents as typed, or not) or the stable code.
    pub fn parse(input: &str) -> Option<Self> {
        let wanted = store::text::fold(input);
        Self::ALL
            .into_iter()
            .find(|a| store::text::fold(a.label()) == wanted || a.code() == input.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_labels_and_codes_parse_back() {
        for a in Activity::ALL {
            assert_eq!(Activity::parse(a.label()), Some(a));
            assert_eq!(Activity::parse(&a.code()), Some(a));
        }
        assert_eq!(
            Activity::parse("soins DENTAIRES"),
            Some(Activity::DentalCare)
        );
        assert_eq!(
            Activity::parse("medecine nucleaire"),
            Some(Activity::NuclearMedicine)
        );
        assert_eq!(Activity::parse("Boulangerie"), None);
        assert!(Activity::DentalCare.is_medical() && !Activity::Nuclear.is_medical());
    }
}
