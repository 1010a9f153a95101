#![forbid(unsafe_code)]

mod domain;
pub use domain::{
    Civility, Departement, DomainError, Email, FrenchDate, HabilitationNumber, MobileNumber,
    PersonName, PhoneNumber, PostalCode, Siret,
};
