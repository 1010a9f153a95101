//! AC SISERI, the certificate authority: the only code that ever loads the CA key, and its
//! signer (the process that holds it, see [`signer`]).
//!
//! It takes no HTTP request and knows nothing of protocols: the registration authority
//! (`enroll`) decides who gets what and asks here, under a named profile.
#![forbid(unsafe_code)]

mod authority;
mod common_name;
mod error;
mod keys;
pub mod migrations;
mod model;
mod ocsp;
mod pkcs12;
mod profile;
mod receipt;
pub mod revocation;
pub mod signer;
mod storage;
mod token;

pub use authority::{immediate, to_pem, Authority, Ceremony, IssueRequest, Issued, Prepared};
pub use common_name::{
    check_common_name, is_forbidden, person_common_name, CUT_MARKER, UB_COMMON_NAME,
};
pub use error::{Error, Result};
pub use keys::{CaKeyAlgorithm, GeneratedKey, SubjectKey, SubscriberKeyAlgorithm};
pub use model::{ProfileKind, RevocationReason, Serial};
pub use ocsp::{
    OcspOutcome, OcspPresigner, OcspQuery, OcspReply, OcspResponder, PresignReport,
    OCSP_MAX_CERTIFICATES, OCSP_VALIDITY,
};
pub use pkcs12::{build_p12, P12Options, P12Profile};
pub use profile::{
    Policy, Subject, DEFAULT_CRL_SHARDS, OPERATOR_EKU, OPERATOR_EKU_DER, RECEIPT_COMMON_NAME,
    RECEIPT_VALIDITY_DAYS,
};
pub use receipt::{
    verify_receipt, verify_receipt_signed, ReceiptKey, ReceiptRenewal, ReceiptSender, Recepisse,
    RejectedLine, VerifiedReceipt, MAX_DOCUMENT_BYTES, MAX_REJECTED_LINES, RECEIPT_RENEWAL_MARGIN,
};
pub use storage::{
    counts, expiring_without_successor, revoked_serials, unsigned_serials, CertificateRecord,
    CertificateStatus, CrlInfo, PublishedCrl, ShardCrlInfo,
};
pub use token::{TokenConfig, TokenKey};
