//! What happens between a signed protocol and a person holding a working certificate, and
//! everything operators do afterwards: approval, persons and attachments, certificates, one-shot
//! withdrawals, access codes, revocation, renewal, re-sending, expiry notices. And the narrow
//! interface the registry asks (who holds this serial; is this access code right).
//!
//! One file per responsibility, each adding its methods to [`Access`]: `review` (versions under
//! review, rejection), `approval`, `issuance` (issue and revoke, shared by the others),
//! `preflight` (what issuance needs of each person, checked before an approval issues
//! anything, and when the person is entered), `operator` (revoke, renew, re-send, reset the
//! access code), `withdrawal` (public), `jobs` (the daemon's sweeps), `directory` (the
//! registry's questions), `designees` (what a protocol says of people already known); `state`
//! has the life cycles, `storage` the SQL.

mod approval;
mod designees;
mod directory;
mod error;
mod issuance;
mod jobs;
mod operator;
mod operators;
mod preflight;
mod registry_directory;
mod review;
mod state;
mod storage;
mod withdrawal;

use std::sync::Arc;

use ca::{P12Options, SubscriberKeyAlgorithm};
use serde::{Deserialize, Serialize};
use store::pool::Pool;
use store::Clock;
use time::OffsetDateTime;

pub use approval::{ApprovalReport, Progress};
pub use designees::{FieldDifference, FoundBy, IdentityField, KnownDesignee};
pub use directory::{Caller, CallerAttachment, EstablishmentView};
pub use error::{AccessError, MatchToConfirm};
pub use operator::AccessorDetail;
pub use operators::{
    Asker, ConsoleOperator, Eyes, GuardedAct, OperatorAct, OperatorCertificate, OperatorRole,
    OperatorRow, OperatorView, OperatorWithdrawalView,
};
pub(crate) use preflight::check_issuable;
pub use preflight::{DesigneeField, DesigneeProblem};
pub use registry_directory::RegistryDirectory;
pub use review::{VersionDetail, VersionSummary};
pub use state::{AccessCodeState, CertificateState, WithdrawalState};
pub(crate) use storage::refold_match_keys;
pub use storage::{AccessCodeRow, AccessorRow, AttachmentRow, CertificateRow, WithdrawalRow};
pub use withdrawal::{WithdrawalInfo, Withdrawn};

use crate::db::{immediate, Audit};
use crate::protocol::ProtocolInput;
use crate::Email;
use store::secrets::ServerKey;
use store::text::fold;

const WITHDRAWAL_TOKEN: &str = "withdrawal-token";
const WITHDRAWAL_CODE: &str = "withdrawal-code";
const ACCESS_CODE: &str = "access-code";

/// The `[access]` section of `config.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// First N° habilitation SISERI allocated.
    pub habilitation_start: u32,
    /// Lifetime of a withdrawal link, in days.
    pub withdrawal_days: u32,
    /// Wrong withdrawal codes before the withdrawal locks.
    pub withdrawal_max_attempts: u32,
    /// Digits of the access code (the seed: 4).
    pub access_code_length: u32,
    /// Wrong access codes before the access locks.
    pub access_code_max_attempts: u32,
    /// Days before a certificate ends when its holder is told.
    pub expiry_notice_days: u32,
    /// Withdrawal attempts (right or wrong codes, any link) one client address may make in
    /// an hour: a guesser cannot spread its tries over many links.
    pub withdrawal_attempts_per_address_per_hour: u32,
    /// Four eyes: an approval, and the revocation of an operator, take two different
    /// operators (the CLI counting as one).
    pub four_eyes: bool,
}

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            habilitation_start: 42000,
            withdrawal_days: 60,
            withdrawal_max_attempts: 5,
            access_code_length: 4,
            access_code_max_attempts: 5,
            expiry_notice_days: 40,
            withdrawal_attempts_per_address_per_hour: 20,
            four_eyes: false,
        }
    }
}

/// What is issued, from the rest of the configuration.
#[derive(Debug, Clone)]
pub struct IssueSettings {
    /// Public base URL; withdrawal links are `<base>/retrait/<token>`.
    pub base_url: String,
    /// Algorithm of the keys made here.
    pub key_algorithm: SubscriberKeyAlgorithm,
    /// Default protection of the `.p12`.
    pub p12: P12Options,
}

/// The access life cycle service.
#[derive(Debug)]
pub struct Access {
    pool: Arc<Pool>,
    key: ServerKey,
    clock: Arc<dyn Clock>,
    config: AccessConfig,
    issue: IssueSettings,
}

/// The key a person named without a habilitation number is found by:
/// `NOM|PRÉNOM|date de naissance|département`, the names folded by [`store::text::fold`].
fn match_key(last_name: &str, first_name: &str, birth_date: &str, departement: &str) -> String {
    format!(
        "{}|{}|{birth_date}|{departement}",
        fold(last_name),
        fold(first_name)
    )
}

fn display_name(a: &AccessorRow) -> String {
    format!("{} {}", a.first_name, a.last_name.to_uppercase())
}

fn mail_name(a: &AccessorRow) -> String {
    format!("{} {}", a.last_name.to_uppercase(), a.first_name)
}

/// The protocol a stored version holds.
fn stored_input(json: &str) -> Result<ProtocolInput, AccessError> {
    serde_json::from_str(json).map_err(AccessError::StoredProtocol)
}

/// A person's stored address, parsed again for sending.
fn stored_email(a: &AccessorRow) -> Result<Email, AccessError> {
    Email::parse(&a.email).map_err(AccessError::StoredEmail)
}

fn from_unix(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl Access {
    /// The service over `pool`.
    pub fn new(
        pool: Arc<Pool>,
        key: ServerKey,
        clock: Arc<dyn Clock>,
        config: AccessConfig,
        issue: IssueSettings,
    ) -> Self {
        Self {
            pool,
            key,
            clock,
            config,
            issue,
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}
