//! The registry behind mutual TLS: the workers lists of the establishments, their fractions,
//! the dose records and the medical follow-up card, each role seeing exactly its part of the
//! seed's table ([`policy`]).
//!
//! This crate is the domain and storage layer; the listener and its handlers sit on top of
//! [`Registry`], whose blocking methods each take the caller's [`Principal`], check it against
//! [`policy::allows`], and write every read and write of a worker's data to the audit log.
#![forbid(unsafe_code)]

mod alert_mail;
mod bilan;
mod card;
mod csv_format;
mod date;
pub mod directory;
mod dose;
mod dosimetry_body;
mod error;
mod fraction;
mod limits;
pub mod migrations;
mod nir;
mod person;
pub mod policy;
mod pregnancy;
mod principal;
mod service;
pub mod statistics;
mod storage;
mod storage_alerts;
mod storage_bodies;
mod storage_doses;
mod storage_fractions;
mod storage_import;
mod storage_persons;
mod storage_transmissions;
mod storage_workers;
mod transmission;

pub mod web;
mod worker;

pub use alert_mail::{AlertMail, ALERT_MAIL_BODY, ALERT_MAIL_SUBJECT};
pub use bilan::{Band, BandCounts, Bilan};
pub use card::{CardFollowUp, CardInput, DeclaredPregnancy, DoseSummary, Fitness, MedicalCard};
pub use csv_format::{ImportReport, ImportSummary, LineError, CSV_HEADER, CSV_IDENTITY_COLUMNS};
pub use directory::{
    AccessCodeState, Attachment, Directory, DirectoryError, Employer, Establishment, Holder, Person,
};
pub use dose::{
    DoseInput, DoseKind, DoseQuery, DoseRecord, Organ, RollingDose, Sender, EFFECTIVE_LIMIT_MSV,
};
pub use dosimetry_body::{resolve as resolve_body_name, NamedBody, BODY_NAME_MAX};
pub use error::{FieldErrors, RegistryError, Result};
pub use fraction::{Fraction, FractionFilter};
pub use limits::Limit;
pub use nir::{Nir, NirError};
pub use policy::{Action, DataKind, Role};
pub use pregnancy::PregnancyInput;
pub use principal::{Identity, Principal};
pub use service::Registry;
pub use storage_alerts::LimitAlert;
pub use storage_persons::IdentityConflict;
pub use transmission::{
    MissingPeriod, PendingLine, ReceiptSigner, SenderEstablishment, SignedReceipt,
    TransmissionFormat, TransmissionSender, TransmissionSummary, MAX_TRANSMISSION_LINES,
    MISSING_AFTER_DAYS, REFERENCE_MAX, TRANSMISSION_HEADER,
};
pub use worker::{
    ActivityCharacter, Applied, CardNumber, Category, ContractType, Operation, Page, WorkFraction,
    Worker, WorkerInput, WorkerQuery, WorkerRecord, WorkerRef, WorkerSummary, WorkerView,
};
