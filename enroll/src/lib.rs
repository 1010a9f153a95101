#![forbid(unsafe_code)]

pub mod access;
mod db;
mod domain;
pub mod migrations;
pub mod outbox;
pub mod pass;
pub mod protocol;
mod text_column;
pub mod web;
pub mod web_cookie;
pub use domain::{
    Civility, Departement, DomainError, Email, FrenchDate, HabilitationNumber, MobileNumber,
    PersonName, PhoneNumber, PostalCode, Siret,
};
