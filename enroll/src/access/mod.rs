//! What happens between a signed protocol and a person holding a working certificate, and
//! everything operators do afterwards: approval, persons and attachments, certificates, one-shot
//! withdrawals, access codes, revocation, renewal, re-sending, expiry notices. And the narrow
//! interface the registry asks (who holds this serial; is this access code right).

mod registry_directory;
mod storage;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use ca::pool::Pool;
use ca::{
    Authority, Clock, GeneratedKey, IssueRequest, P12Options, P12Profile, PublishedCrl,
    RevocationReason, Serial, SubjectKey, SubscriberKeyAlgorithm,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

pub use registry_directory::RegistryDirectory;
pub use storage::{AccessCodeRow, AccessorRow, AttachmentRow, CertificateRow, WithdrawalRow};

use crate::outbox::{self, templates};
use crate::protocol::{Designee, Protocol, ProtocolInput, Role};
use crate::secrets::{new_token, ServerKey};
use crate::Email;

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

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// No such protocol (number).
    #[error("Aucun protocole n° {0}.")]
    UnknownProtocol(String),
    /// Nothing signed awaits a decision.
    #[error("Le protocole n° {0} n'a aucune version signée en attente de décision.")]
    NothingToDecide(String),
    /// A habilitation number that does not exist.
    #[error("N° habilitation SISERI {0} inconnu.")]
    UnknownHabilitation(u32),
    /// A protocol names a person by number with another name.
    #[error("N° habilitation SISERI {habilitation} : le nom indiqué ({given}) ne correspond pas à la personne enregistrée ; validation arrêtée, rien n'a été modifié pour cette personne.")]
    NameMismatch {
        /// The number.
        habilitation: u32,
        /// The name the protocol gives.
        given: String,
    },
    /// The signed content cannot be read back as a valid protocol.
    #[error("Le contenu signé du protocole est invalide : {0}")]
    InvalidProtocol(String),
    /// Withdrawal link unknown.
    #[error("Lien de retrait inconnu.")]
    WithdrawalNotFound,
    /// Withdrawal used, expired or superseded.
    #[error("Ce lien de retrait n'est plus valide (déjà utilisé, expiré ou remplacé).")]
    WithdrawalGone,
    /// Withdrawal being prepared.
    #[error("Votre certificat est en cours de préparation : réessayez dans quelques minutes.")]
    WithdrawalNotReady,
    /// Too many wrong withdrawal codes.
    #[error("Trop de codes de retrait erronés : ce retrait est bloqué. Contactez SISERI pour un nouvel envoi.")]
    WithdrawalLocked,
    /// Wrong withdrawal code.
    #[error("Code de retrait incorrect ({attempts_left} essai(s) restant(s)).")]
    WrongWithdrawalCode {
        /// Tries left.
        attempts_left: u32,
    },
    /// The CSR given at withdrawal is refused.
    #[error("Demande de certificat refusée : {0}")]
    BadCsr(String),
    /// Access code wrong.
    #[error("Code d'accès incorrect ({attempts_left} essai(s) restant(s)).")]
    WrongAccessCode {
        /// Tries left.
        attempts_left: u32,
    },
    /// Access locked.
    #[error(
        "Accès bloqué après trop de codes erronés : contactez SISERI pour obtenir un nouveau code."
    )]
    AccessLocked,
    /// The person holds no certificate to act on.
    #[error("La personne {0} n'a pas de certificat en cours.")]
    NoCertificate(u32),
    /// Storage or CA failure.
    #[error("Erreur interne : {0}")]
    Internal(String),
}

impl AccessError {
    /// HTTP status for the public routes.
    pub fn status(&self) -> u16 {
        match self {
            Self::WithdrawalNotFound | Self::UnknownProtocol(_) | Self::UnknownHabilitation(_) => {
                404
            }
            Self::WithdrawalGone => 410,
            Self::WithdrawalNotReady | Self::NothingToDecide(_) | Self::NoCertificate(_) => 409,
            Self::WithdrawalLocked | Self::AccessLocked => 423,
            Self::WrongWithdrawalCode { .. } => 403,
            Self::WrongAccessCode { .. } => 401,
            Self::BadCsr(_) | Self::NameMismatch { .. } | Self::InvalidProtocol(_) => 422,
            Self::Internal(_) => 500,
        }
    }

    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownProtocol(_) => "unknown_protocol",
            Self::NothingToDecide(_) => "nothing_to_decide",
            Self::UnknownHabilitation(_) => "unknown_habilitation",
            Self::NameMismatch { .. } => "name_mismatch",
            Self::InvalidProtocol(_) => "invalid_protocol",
            Self::WithdrawalNotFound => "not_found",
            Self::WithdrawalGone => "gone",
            Self::WithdrawalNotReady => "not_ready",
            Self::WithdrawalLocked => "locked",
            Self::WrongWithdrawalCode { .. } => "wrong_code",
            Self::BadCsr(_) => "bad_csr",
            Self::WrongAccessCode { .. } => "wrong_access_code",
            Self::AccessLocked => "access_locked",
            Self::NoCertificate(_) => "no_certificate",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<rusqlite::Error> for AccessError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Internal(e.to_string())
    }
}
impl From<store::Error> for AccessError {
    fn from(e: store::Error) -> Self {
        ca::Error::from(e).into()
    }
}

impl From<ca::Error> for AccessError {
    fn from(e: ca::Error) -> Self {
        Self::Internal(e.to_string())
    }
}
impl From<outbox::OutboxError> for AccessError {
    fn from(e: outbox::OutboxError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// What an approval did.
#[derive(Debug, Default)]
pub struct ApprovalReport {
    /// Protocol number.
    pub number: String,
    /// Version approved.
    pub version: i64,
    /// People who got a new certificate.
    pub issued: Vec<u32>,
    /// People who already held one and only gained an attachment.
    pub attached: Vec<u32>,
    /// People no longer named, who lost their attachment.
    pub detached: Vec<u32>,
    /// People whose certificate was revoked (their last attachment ended).
    pub revoked: Vec<u32>,
    /// The CRL published, if any revocation happened.
    pub crl: Option<PublishedCrl>,
}

/// Progress of a long operation, for the CLI's display.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, &str);

/// A protocol version under review.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSummary {
    /// Protocol number.
    pub number: String,
    /// Version number.
    pub version: i64,
    /// Status.
    pub status: String,
    /// Employer's name.
    pub employer: String,
    /// Signature time.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

/// Everything an operator needs to decide.
#[derive(Debug, Clone, Serialize)]
pub struct VersionDetail {
    /// Summary.
    pub summary: VersionSummary,
    /// Key name.
    pub key_name: String,
    /// Public id of the version (for documents).
    pub version_id: String,
    /// What was signed.
    pub protocol: ProtocolInput,
    /// The signed Annexe 1.
    pub annexe_text: String,
    /// Its SHA-256.
    pub document_sha256: String,
    /// Signature evidence.
    pub evidence: serde_json::Value,
    /// For a renewal: lines added (`+`) and removed (`-`) against the version in force.
    pub diff: Vec<String>,
    /// Rejection reason.
    pub reject_reason: Option<String>,
    /// Operator who decided.
    pub decided_by: Option<String>,
}

/// Everything about one person, for `accessor show`.
#[derive(Debug, Clone)]
pub struct AccessorDetail {
    /// The person.
    pub accessor: AccessorRow,
    /// Attachments, with protocol numbers.
    pub attachments: Vec<(AttachmentRow, String)>,
    /// Certificates.
    pub certificates: Vec<CertificateRow>,
    /// Withdrawals.
    pub withdrawals: Vec<WithdrawalRow>,
    /// Access code state.
    pub access_code: Option<AccessCodeRow>,
}

/// A withdrawal's public state, for its page.
#[derive(Debug, Clone, Serialize)]
pub struct WithdrawalInfo {
    /// The person's display name.
    pub display_name: String,
    /// N° habilitation.
    pub habilitation: u32,
    /// End of validity of the link.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Tries left.
    pub attempts_left: u32,
}

/// What a withdrawal hands out.
#[derive(Debug)]
pub enum Withdrawn {
    /// The `.p12` (its password went by e-mail).
    P12 {
        /// N° habilitation (file name).
        habilitation: u32,
        /// The file.
        bytes: Zeroizing<Vec<u8>>,
    },
    /// The certificate chain for the person's own key (CSR mode).
    Chain {
        /// N° habilitation.
        habilitation: u32,
        /// PEM: leaf then AC SISERI.
        pem: String,
    },
}

/// The registry's view of a certificate holder.
#[derive(Debug, Clone, Serialize)]
pub struct Caller {
    /// N° habilitation.
    pub habilitation: u32,
    /// `Pierre DILLENSEGER`.
    pub display_name: String,
    /// Active attachments.
    pub attachments: Vec<CallerAttachment>,
}

/// One establishment a caller is attached to.
#[derive(Debug, Clone, Serialize)]
pub struct CallerAttachment {
    /// Establishment id (the protocol's).
    pub establishment: i64,
    /// Role there.
    pub role: Role,
    /// PCR sending dosimetry.
    pub sends_dosimetry: bool,
}

/// *Établissement de rattachement*.
#[derive(Debug, Clone, Serialize)]
pub struct EstablishmentView {
    /// Id.
    pub id: i64,
    /// Protocol number.
    pub number: String,
    /// Key name.
    pub key_name: String,
    /// Name and address, from the version in force.
    pub employer: crate::protocol::EmployerInput,
    /// Accessors and their roles.
    pub accessors: Vec<(String, Role)>,
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

fn immediate(conn: &mut rusqlite::Connection) -> Result<rusqlite::Transaction<'_>, AccessError> {
    Ok(conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
}

fn audit(
    tx: &rusqlite::Transaction<'_>,
    now: OffsetDateTime,
    actor: &str,
    action: &str,
    target: &str,
    details: &[(&str, &str)],
) -> Result<(), AccessError> {
    ca::audit::append(
        tx,
        now,
        &ca::audit::Event {
            actor,
            action,
            target,
            details,
        },
    )?;
    Ok(())
}

/// Upper-case without accents, to compare names as people type them.
fn fold(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'A',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'î' | 'ï' | 'Î' | 'Ï' => 'I',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'O',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'U',
            'ç' | 'Ç' => 'C',
            '’' => '\'',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

fn display_name(a: &AccessorRow) -> String {
    format!("{} {}", a.first_name, a.last_name.to_uppercase())
}

fn mail_name(a: &AccessorRow) -> String {
    format!("{} {}", a.last_name.to_uppercase(), a.first_name)
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

    // ---- operator review -------------------------------------------------------------------

    /// Signed, approved, rejected… versions, oldest first.
    pub fn versions(&self, status: Option<&str>) -> Result<Vec<VersionSummary>, AccessError> {
        let conn = self.pool.get()?;
        Ok(storage::versions(&conn, status)?
            .iter()
            .map(summary)
            .collect())
    }

    /// The latest version of a protocol, with what changed against the version in force.
    pub fn version_detail(&self, number: &str) -> Result<VersionDetail, AccessError> {
        let conn = self.pool.get()?;
        let versions = storage::versions_of(&conn, number)?;
        let latest = versions
            .last()
            .ok_or_else(|| AccessError::UnknownProtocol(number.to_owned()))?;
        let in_force = versions
            .iter()
            .rev()
            .find(|v| v.status == "approved" && v.version < latest.version);
        let diff = match in_force {
            Some(old) => {
                let before: BTreeSet<&str> = old.annexe_text.lines().collect();
                let after: BTreeSet<&str> = latest.annexe_text.lines().collect();
                let mut d: Vec<String> = before
                    .difference(&after)
                    .map(|l| format!("- {l}"))
                    .collect();
                d.extend(after.difference(&before).map(|l| format!("+ {l}")));
                d
            }
            None => Vec::new(),
        };
        Ok(VersionDetail {
            summary: summary(latest),
            key_name: latest.key_name.clone(),
            version_id: latest.version_id.clone(),
            protocol: serde_json::from_str(&latest.input)
                .map_err(|e| AccessError::Internal(e.to_string()))?,
            annexe_text: latest.annexe_text.clone(),
            document_sha256: latest.document_sha256.clone(),
            evidence: serde_json::from_str(&latest.evidence).unwrap_or_default(),
            diff,
            reject_reason: latest.reject_reason.clone(),
            decided_by: latest.decided_by.clone(),
        })
    }

    /// Rejects the signed version awaiting a decision; the correspondents are told by e-mail
    /// and the legal representative by SMS.
    pub fn reject(&self, number: &str, reason: &str, operator: &str) -> Result<(), AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let row = storage::versions_of(&tx, number)?
            .into_iter()
            .rev()
            .find(|v| v.status == "signed")
            .ok_or_else(|| AccessError::NothingToDecide(number.to_owned()))?;
        storage::decide(
            &tx,
            &row.version_id,
            "rejected",
            operator,
            Some(reason),
            now,
        )?;
        let input: ProtocolInput =
            serde_json::from_str(&row.input).map_err(|e| AccessError::Internal(e.to_string()))?;
        if let Ok(p) = Protocol::parse(&input) {
            outbox::enqueue(
                &tx,
                &outbox::Message::Sms {
                    to: p.legal_representative.mobile.e164().to_owned(),
                    text: format!(
                        "SISERI : le protocole d'accès n° {number} n'a pas été validé. Le motif a été envoyé par e-mail à vos correspondants SISERI."
                    ),
                },
                now,
            )?;
            for c in &p.correspondents {
                outbox::enqueue(
                    &tx,
                    &templates::protocol_rejected_mail(
                        &c.email,
                        &format!(
                            "{} {}",
                            c.last_name.as_str().to_uppercase(),
                            c.first_name.as_str()
                        ),
                        number,
                        reason,
                    ),
                    now,
                )?;
            }
        }
        audit(
            &tx,
            now,
            operator,
            "protocol.reject",
            number,
            &[("version", &row.version.to_string())],
        )?;
        tx.commit()?;
        Ok(())
    }

    // ---- approval --------------------------------------------------------------------------

    /// Approves the signed version of `number`: each person named gets what they need, in a
    /// transaction of their own (an interrupted approval is resumed by approving again, without
    /// duplicates); people no longer named lose that attachment, and their certificate when it
    /// was their last.
    pub fn approve(
        &self,
        authority: &Authority,
        number: &str,
        operator: &str,
        progress: Progress<'_>,
    ) -> Result<ApprovalReport, AccessError> {
        let row = {
            let conn = self.pool.get()?;
            storage::versions_of(&conn, number)?
                .into_iter()
                .rev()
                .find(|v| v.status == "signed")
                .ok_or_else(|| AccessError::NothingToDecide(number.to_owned()))?
        };
        let input: ProtocolInput =
            serde_json::from_str(&row.input).map_err(|e| AccessError::Internal(e.to_string()))?;
        let protocol =
            Protocol::parse(&input).map_err(|e| AccessError::InvalidProtocol(e.to_string()))?;
        let designees: Vec<&Designee> = protocol.designees().collect();
        // Check every number first: a mismatch stops the approval before anything changes.
        {
            let conn = self.pool.get()?;
            for d in &designees {
                if let Some(h) = d.habilitation {
                    let a = storage::accessor(&conn, h.get())?
                        .ok_or(AccessError::UnknownHabilitation(h.get()))?;
                    if fold(&a.last_name) != fold(d.last_name.as_str())
                        || fold(&a.first_name) != fold(d.first_name.as_str())
                    {
                        return Err(AccessError::NameMismatch {
                            habilitation: h.get(),
                            given: format!("{} {}", d.first_name.as_str(), d.last_name.as_str()),
                        });
                    }
                }
            }
        }
        let mut report = ApprovalReport {
            number: number.to_owned(),
            version: row.version,
            ..ApprovalReport::default()
        };
        let mut issued_now: HashSet<u32> = HashSet::new();
        let mut named: HashSet<(u32, Role)> = HashSet::new();
        let total = designees.len();
        for (i, d) in designees.iter().enumerate() {
            progress(
                i,
                total,
                &format!("{} {}", d.first_name.as_str(), d.last_name.as_str()),
            );
            let hab = self.approve_designee(
                authority,
                &row,
                &protocol,
                d,
                operator,
                &mut issued_now,
                &mut report,
            )?;
            named.insert((hab, d.role));
        }
        progress(total, total, "fin");

        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let mut revoked_any = false;
        for att in storage::attachments_of_protocol(&tx, row.protocol_id)? {
            if named.contains(&(att.habilitation, att.role)) {
                continue;
            }
            storage::end_attachment(&tx, att.id, now)?;
            report.detached.push(att.habilitation);
            audit(
                &tx,
                now,
                operator,
                "accessor.detach",
                &att.habilitation.to_string(),
                &[("protocol", number), ("role", att.role.as_str())],
            )?;
            if storage::attachments_of_person(&tx, att.habilitation, true)?.is_empty() {
                revoked_any |= self.revoke_all_in(
                    &tx,
                    authority,
                    att.habilitation,
                    RevocationReason::AffiliationChanged,
                    operator,
                    now,
                )?;
                report.revoked.push(att.habilitation);
            }
        }
        if !storage::decide(&tx, &row.version_id, "approved", operator, None, now)? {
            return Err(AccessError::NothingToDecide(number.to_owned()));
        }
        storage::supersede_older(&tx, row.protocol_id, row.version)?;
        audit(
            &tx,
            now,
            operator,
            "protocol.approve",
            number,
            &[("version", &row.version.to_string())],
        )?;
        tx.commit()?;
        drop(conn);
        if revoked_any {
            report.crl = Some(self.publish_crl(authority, operator)?);
        }
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    fn approve_designee(
        &self,
        authority: &Authority,
        row: &storage::ReviewRow,
        protocol: &Protocol,
        d: &Designee,
        operator: &str,
        issued_now: &mut HashSet<u32>,
        report: &mut ApprovalReport,
    ) -> Result<u32, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let hab = match d.habilitation {
            Some(h) => h.get(),
            None => {
                let identity = d.identity.as_ref().ok_or_else(|| {
                    AccessError::InvalidProtocol("identité manquante sans N° habilitation".into())
                })?;
                let match_key = format!(
                    "{}|{}|{}|{}",
                    fold(d.last_name.as_str()),
                    fold(d.first_name.as_str()),
                    identity.birth_date,
                    identity.birth_departement.as_str()
                );
                match storage::accessor_by_match(&tx, &match_key)? {
                    Some(h) => h,
                    None => {
                        let h = storage::next_habilitation(&tx, self.config.habilitation_start)?;
                        let birth = identity.birth_date.to_string();
                        storage::insert_accessor(
                            &tx,
                            &storage::NewAccessor {
                                habilitation: h,
                                last_name: d.last_name.as_str(),
                                first_name: d.first_name.as_str(),
                                match_key: Some(&match_key),
                                email: d.email.as_str(),
                                civility: Some(identity.civility.as_str()),
                                birth_date: Some(&birth),
                                birth_departement: Some(identity.birth_departement.as_str()),
                            },
                            now,
                        )?;
                        audit(&tx, now, operator, "accessor.create", &h.to_string(), &[])?;
                        h
                    }
                }
            }
        };
        storage::set_email(&tx, hab, d.email.as_str())?;
        let person = storage::accessor(&tx, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        let attachment = storage::active_attachment(&tx, hab, row.protocol_id, d.role)?;
        let newly_attached = attachment.is_none();
        match attachment {
            Some(a) => storage::set_sends_dosimetry(&tx, a.id, d.sends_dosimetry)?,
            None => {
                storage::attach(
                    &tx,
                    hab,
                    row.protocol_id,
                    d.role,
                    d.sends_dosimetry,
                    row.version,
                    now,
                )?;
                audit(
                    &tx,
                    now,
                    operator,
                    "accessor.attach",
                    &hab.to_string(),
                    &[("protocol", &row.number), ("role", d.role.as_str())],
                )?;
            }
        }
        let certificates = storage::certificates_of(&tx, hab)?;
        // An approval interrupted between record and signature left a preparing certificate:
        // its key is gone; it is abandoned and redone.
        for c in certificates.iter().filter(|c| c.state == "preparing") {
            storage::set_certificate_state(&tx, &c.serial, "revoked", None)?;
            for w in storage::withdrawals_of(&tx, hab)?
                .iter()
                .filter(|w| w.serial == c.serial)
            {
                storage::close_withdrawal(&tx, w.id, "superseded", now)?;
            }
        }
        let holds = certificates
            .iter()
            .any(|c| c.state == "issued" || c.state == "delivered");
        if holds {
            if newly_attached && !issued_now.contains(&hab) {
                outbox::enqueue(
                    &tx,
                    &templates::attachment_notice_mail(
                        &d.email,
                        &mail_name(&person),
                        &protocol.employer.address.name,
                        d.role.label(),
                    ),
                    now,
                )?;
                report.attached.push(hab);
            }
            tx.commit()?;
            return Ok(hab);
        }
        tx.commit()?;
        drop(conn);
        self.issue_for(
            authority,
            &person,
            None,
            None,
            operator,
            &format!("enroll:protocol {}", row.number),
            true,
        )?;
        issued_now.insert(hab);
        report.issued.push(hab);
        Ok(hab)
    }

    /// Issues a certificate with a server-made key: the record, the certificate row and the
    /// withdrawal are committed before the signature; the signature, the `.p12`, the access
    /// code and the e-mails commit together after it.
    #[allow(clippy::too_many_arguments)]
    fn issue_for(
        &self,
        authority: &Authority,
        person: &AccessorRow,
        replaces: Option<&[u8]>,
        profile: Option<P12Profile>,
        operator: &str,
        requester: &str,
        with_access_code: bool,
    ) -> Result<bool, AccessError> {
        let now = self.now();
        let key = GeneratedKey::generate(self.issue.key_algorithm)?;
        let email =
            Email::parse(&person.email).map_err(|e| AccessError::Internal(e.to_string()))?;
        let token = new_token()?;
        let profile = profile.unwrap_or(self.issue.p12.profile);
        let profile_name = match profile {
            P12Profile::Modern => "modern",
            P12Profile::Compat => "compat",
        };
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        // Decided under the write lock, with the record that follows: two approvals (or two
        // re-sends) racing for one person give one certificate, not two.
        let live = storage::certificates_of(&tx, person.habilitation)?
            .iter()
            .any(|c| match replaces {
                None => matches!(c.state.as_str(), "preparing" | "issued" | "delivered"),
                Some(_) => matches!(c.state.as_str(), "preparing" | "issued"),
            });
        if live {
            return Ok(false);
        }
        let prepared = authority.prepare(
            &tx,
            &IssueRequest {
                subject: person_subject(person),
                key: key.public(),
                requester,
            },
            now,
        )?;
        let serial = prepared.serial().as_bytes().to_vec();
        storage::insert_certificate(&tx, &serial, person.habilitation, replaces, now)?;
        let withdrawal = storage::insert_withdrawal(
            &tx,
            person.habilitation,
            &serial,
            &self.key.hash(WITHDRAWAL_TOKEN, &token),
            profile_name,
            now,
            now + Duration::days(i64::from(self.config.withdrawal_days)),
        )?;
        tx.commit()?;

        let tx = immediate(&mut conn)?;
        let issued = authority.sign_in(&tx, &prepared, now)?;
        let password = ca::secret::p12_password()?;
        let p12 = ca::build_p12(
            key,
            &issued.der,
            authority.certificate_der(),
            &display_name(person),
            &password,
            P12Options {
                profile,
                iterations: self.issue.p12.iterations,
            },
        )?;
        let code = ca::secret::unambiguous_string(9)?;
        storage::withdrawal_ready(
            &tx,
            withdrawal,
            &self.key.hash(WITHDRAWAL_CODE, &code),
            &p12,
        )?;
        storage::set_certificate_state(
            &tx,
            &serial,
            "issued",
            Some(issued.not_after.unix_timestamp()),
        )?;
        let url = format!(
            "{}/retrait/{}",
            self.issue.base_url.trim_end_matches('/'),
            token.as_str()
        );
        outbox::enqueue(
            &tx,
            &templates::withdrawal_mail(
                &email,
                &mail_name(person),
                &url,
                &code,
                &password,
                self.config.withdrawal_days,
            ),
            now,
        )?;
        if with_access_code && storage::access_code(&tx, person.habilitation)?.is_none() {
            let access = ca::secret::digits(self.config.access_code_length as usize)?;
            storage::put_access_code(
                &tx,
                person.habilitation,
                &self.key.hash(ACCESS_CODE, &access),
                now,
            )?;
            outbox::enqueue(
                &tx,
                &templates::access_code_mail(&email, &mail_name(person), &access),
                now,
            )?;
        }
        audit(
            &tx,
            now,
            operator,
            "accessor.issue",
            &person.habilitation.to_string(),
            &[
                ("serial", &issued.serial.to_hex()),
                ("p12_profile", profile_name),
            ],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Signs and publishes a CRL after a committed revocation.
    fn publish_crl(&self, authority: &Authority, actor: &str) -> Result<PublishedCrl, AccessError> {
        let mut conn = self.pool.get()?;
        Ok(authority.publish_crl(&mut conn, actor, self.now())?)
    }

    /// Revokes every certificate in the person's hands or awaiting withdrawal; true when one
    /// was. The caller publishes the CRL after committing.
    fn revoke_all_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        authority: &Authority,
        hab: u32,
        reason: RevocationReason,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<bool, AccessError> {
        let mut revoked = false;
        for w in storage::withdrawals_of(tx, hab)? {
            storage::close_withdrawal(tx, w.id, "superseded", now)?;
        }
        for c in storage::certificates_of(tx, hab)? {
            if c.state == "issued" || c.state == "delivered" {
                authority.revoke_in(
                    tx,
                    &Serial::from_der_bytes(&c.serial),
                    reason,
                    operator,
                    now,
                )?;
                revoked = true;
                storage::set_certificate_state(tx, &c.serial, "revoked", None)?;
            }
        }
        Ok(revoked)
    }

    // ---- operator actions on a person --------------------------------------------------------

    /// Every person.
    pub fn accessors(&self) -> Result<Vec<AccessorRow>, AccessError> {
        let conn = self.pool.get()?;
        storage::accessors(&conn)
    }

    /// One person, with everything attached to them.
    pub fn accessor(&self, hab: u32) -> Result<AccessorDetail, AccessError> {
        let conn = self.pool.get()?;
        let accessor =
            storage::accessor(&conn, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        let mut attachments = Vec::new();
        for a in storage::attachments_of_person(&conn, hab, false)? {
            let number = storage::versions_of_id(&conn, a.protocol_id)?
                .first()
                .map(|v| v.number.clone())
                .unwrap_or_default();
            attachments.push((a, number));
        }
        Ok(AccessorDetail {
            certificates: storage::certificates_of(&conn, hab)?,
            withdrawals: storage::withdrawals_of(&conn, hab)?,
            access_code: storage::access_code(&conn, hab)?,
            attachments,
            accessor,
        })
    }

    /// Revokes every certificate of a person (and closes their pending withdrawals).
    pub fn revoke(
        &self,
        authority: &Authority,
        hab: u32,
        reason: RevocationReason,
        operator: &str,
    ) -> Result<PublishedCrl, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        storage::accessor(&tx, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        if !self.revoke_all_in(&tx, authority, hab, reason, operator, now)? {
            return Err(AccessError::NoCertificate(hab));
        }
        tx.commit()?;
        drop(conn);
        self.publish_crl(authority, operator)
    }

    /// A new certificate and withdrawal for a person (renewal, or a re-send with another
    /// `.p12` profile). Pending withdrawals are superseded and their never-delivered
    /// certificates revoked; the certificate in the person's hands stays valid until the new
    /// one is withdrawn (then it is revoked as superseded) or until it expires.
    pub fn reissue(
        &self,
        authority: &Authority,
        hab: u32,
        profile: Option<P12Profile>,
        operator: &str,
    ) -> Result<Option<PublishedCrl>, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let person = storage::accessor(&tx, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        let mut revoked = false;
        for w in storage::withdrawals_of(&tx, hab)? {
            if storage::close_withdrawal(&tx, w.id, "superseded", now)? {
                if let Some(c) = storage::certificate(&tx, &w.serial)? {
                    if c.state == "issued" {
                        authority.revoke_in(
                            &tx,
                            &Serial::from_der_bytes(&c.serial),
                            RevocationReason::Superseded,
                            operator,
                            now,
                        )?;
                        revoked = true;
                        storage::set_certificate_state(&tx, &c.serial, "revoked", None)?;
                    }
                }
            }
        }
        let in_hands = storage::certificates_of(&tx, hab)?
            .into_iter()
            .rev()
            .find(|c| c.state == "delivered")
            .map(|c| c.serial);
        tx.commit()?;
        drop(conn);
        let crl = if revoked {
            Some(self.publish_crl(authority, operator)?)
        } else {
            None
        };
        self.issue_for(
            authority,
            &person,
            in_hands.as_deref(),
            profile,
            operator,
            "operator:cli",
            false,
        )?;
        Ok(crl)
    }

    /// Sends a new access code and unlocks the access.
    pub fn reset_code(&self, hab: u32, operator: &str) -> Result<(), AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let person = storage::accessor(&tx, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        let email =
            Email::parse(&person.email).map_err(|e| AccessError::Internal(e.to_string()))?;
        let code = ca::secret::digits(self.config.access_code_length as usize)?;
        storage::put_access_code(&tx, hab, &self.key.hash(ACCESS_CODE, &code), now)?;
        outbox::enqueue(
            &tx,
            &templates::access_code_mail(&email, &mail_name(&person), &code),
            now,
        )?;
        audit(
            &tx,
            now,
            operator,
            "accessor.reset_code",
            &hab.to_string(),
            &[],
        )?;
        tx.commit()?;
        Ok(())
    }

    // ---- withdrawal (public) -------------------------------------------------------------------

    /// The page of a withdrawal link, before the code is given.
    pub fn withdrawal_info(&self, token: &str) -> Result<WithdrawalInfo, AccessError> {
        let conn = self.pool.get()?;
        let w = storage::withdrawal_by_token(&conn, &self.key.hash(WITHDRAWAL_TOKEN, token))?
            .ok_or(AccessError::WithdrawalNotFound)?;
        self.check_open(&w)?;
        let person = storage::accessor(&conn, w.habilitation)?
            .ok_or(AccessError::UnknownHabilitation(w.habilitation))?;
        Ok(WithdrawalInfo {
            display_name: display_name(&person),
            habilitation: w.habilitation,
            expires_at: from_unix(w.expires_at),
            attempts_left: self.attempts_left(&w),
        })
    }

    fn attempts_left(&self, w: &WithdrawalRow) -> u32 {
        u32::try_from(i64::from(self.config.withdrawal_max_attempts) - w.failed_attempts)
            .unwrap_or(0)
    }

    fn check_open(&self, w: &WithdrawalRow) -> Result<(), AccessError> {
        // Past its 60 days a withdrawal is gone, locked or not.
        if self.now().unix_timestamp() > w.expires_at {
            return Err(AccessError::WithdrawalGone);
        }
        match w.status.as_str() {
            "pending" => Ok(()),
            "preparing" => Err(AccessError::WithdrawalNotReady),
            "locked" => Err(AccessError::WithdrawalLocked),
            _ => Err(AccessError::WithdrawalGone),
        }
    }

    /// Takes a withdrawal with its code: the `.p12` once (compare-and-swap in one transaction:
    /// of any number of concurrent requests exactly one gets it), or, with a CSR, the chain for
    /// the person's own key. The stored `.p12` is erased either way.
    pub fn withdraw(
        &self,
        authority: &Authority,
        token: &str,
        code: &str,
        csr_pem: Option<&str>,
    ) -> Result<Withdrawn, AccessError> {
        // A bad CSR is refused before anything is consumed.
        let csr_key = match csr_pem {
            Some(pem) => Some(
                SubjectKey::from_csr_pem(pem).map_err(|e| AccessError::BadCsr(e.to_string()))?,
            ),
            None => None,
        };
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let w = storage::withdrawal_by_token(&tx, &self.key.hash(WITHDRAWAL_TOKEN, token))?
            .ok_or(AccessError::WithdrawalNotFound)?;
        if matches!(w.status.as_str(), "pending" | "locked") && now.unix_timestamp() > w.expires_at
        {
            storage::close_withdrawal(&tx, w.id, "expired", now)?;
            tx.commit()?;
            return Err(AccessError::WithdrawalGone);
        }
        self.check_open(&w)?;
        let code_ok = w
            .code_hmac
            .as_deref()
            .is_some_and(|h| self.key.verify(WITHDRAWAL_CODE, code.trim(), h));
        if !code_ok {
            let max = i64::from(self.config.withdrawal_max_attempts);
            let failures = storage::withdrawal_failure(&tx, w.id, max)?;
            if failures >= max {
                audit(
                    &tx,
                    now,
                    "public",
                    "withdrawal.locked",
                    &w.habilitation.to_string(),
                    &[],
                )?;
                tx.commit()?;
                return Err(AccessError::WithdrawalLocked);
            }
            tx.commit()?;
            return Err(AccessError::WrongWithdrawalCode {
                attempts_left: u32::try_from(max - failures).unwrap_or(0),
            });
        }
        let p12 = storage::take_p12(&tx, w.id, now)?.ok_or(AccessError::WithdrawalGone)?;
        let p12 = Zeroizing::new(p12);
        let prepared_cert =
            storage::certificate(&tx, &w.serial)?.ok_or(AccessError::WithdrawalGone)?;
        let person = storage::accessor(&tx, w.habilitation)?
            .ok_or(AccessError::UnknownHabilitation(w.habilitation))?;
        let outcome = match csr_key {
            None => {
                storage::set_certificate_state(&tx, &w.serial, "delivered", None)?;
                Withdrawn::P12 {
                    habilitation: w.habilitation,
                    bytes: p12,
                }
            }
            Some(key) => {
                // The prepared key never leaves: its certificate is revoked at once.
                authority.revoke_in(
                    &tx,
                    &Serial::from_der_bytes(&w.serial),
                    RevocationReason::Superseded,
                    "public",
                    now,
                )?;
                storage::set_certificate_state(&tx, &w.serial, "revoked", None)?;
                let prepared = authority.prepare(
                    &tx,
                    &IssueRequest {
                        subject: person_subject(&person),
                        key: &key,
                        requester: "withdrawal:csr",
                    },
                    now,
                )?;
                let issued = authority.sign_in(&tx, &prepared, now)?;
                storage::insert_certificate(
                    &tx,
                    issued.serial.as_bytes(),
                    w.habilitation,
                    prepared_cert.replaces.as_deref(),
                    now,
                )?;
                storage::set_certificate_state(
                    &tx,
                    issued.serial.as_bytes(),
                    "delivered",
                    Some(issued.not_after.unix_timestamp()),
                )?;
                Withdrawn::Chain {
                    habilitation: w.habilitation,
                    pem: format!("{}{}", issued.pem(), authority.certificate_pem()),
                }
            }
        };
        // A renewal: the certificate it replaces goes once the new one is in hand.
        if let Some(old) = prepared_cert.replaces.as_deref() {
            if let Some(c) = storage::certificate(&tx, old)? {
                if c.state == "delivered" || c.state == "issued" {
                    authority.revoke_in(
                        &tx,
                        &Serial::from_der_bytes(old),
                        RevocationReason::Superseded,
                        "public",
                        now,
                    )?;
                    storage::set_certificate_state(&tx, old, "revoked", None)?;
                }
            }
        }
        audit(
            &tx,
            now,
            "public",
            "withdrawal.used",
            &w.habilitation.to_string(),
            &[("mode", if csr_pem.is_some() { "csr" } else { "p12" })],
        )?;
        tx.commit()?;
        drop(conn);
        if csr_pem.is_some() || prepared_cert.replaces.is_some() {
            self.publish_crl(authority, "public")?;
        }
        Ok(outcome)
    }

    // ---- scheduled jobs ------------------------------------------------------------------------

    /// Expires withdrawals past their 60 days: the `.p12` is erased and the never-delivered
    /// certificate revoked. Idempotent.
    pub fn sweep_withdrawals(&self, authority: &Authority) -> Result<usize, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let mut n = 0;
        let mut revoked = false;
        for w in storage::withdrawals_due(&tx, now.unix_timestamp())? {
            if !storage::close_withdrawal(&tx, w.id, "expired", now)? {
                continue;
            }
            n += 1;
            if let Some(c) = storage::certificate(&tx, &w.serial)? {
                if c.state == "issued" {
                    authority.revoke_in(
                        &tx,
                        &Serial::from_der_bytes(&c.serial),
                        RevocationReason::CessationOfOperation,
                        "daemon",
                        now,
                    )?;
                    revoked = true;
                    storage::set_certificate_state(&tx, &c.serial, "revoked", None)?;
                }
            }
            audit(
                &tx,
                now,
                "daemon",
                "withdrawal.expired",
                &w.habilitation.to_string(),
                &[],
            )?;
        }
        tx.commit()?;
        drop(conn);
        if revoked {
            self.publish_crl(authority, "daemon")?;
        }
        Ok(n)
    }

    /// E-mails holders whose certificate ends within the notice period, once each.
    pub fn expiry_notices(&self) -> Result<usize, AccessError> {
        let now = self.now();
        let until = now + Duration::days(i64::from(self.config.expiry_notice_days));
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let mut n = 0;
        for c in storage::certificates_expiring(&tx, now.unix_timestamp(), until.unix_timestamp())?
        {
            let Some(person) = storage::accessor(&tx, c.habilitation)? else {
                continue;
            };
            let Ok(email) = Email::parse(&person.email) else {
                continue;
            };
            if !storage::mark_expiry_notified(&tx, &c.serial, now)? {
                continue;
            }
            let not_after = from_unix(c.not_after.unwrap_or(0));
            let days = u32::try_from((not_after - now).whole_days()).unwrap_or(0);
            outbox::enqueue(
                &tx,
                &templates::expiry_notice_mail(&email, &mail_name(&person), not_after.date(), days),
                now,
            )?;
            n += 1;
        }
        tx.commit()?;
        Ok(n)
    }

    // ---- the registry's narrow interface --------------------------------------------------------

    /// Who holds the certificate `serial` (delivered, not revoked), and where they are attached.
    pub fn caller(&self, serial: &[u8]) -> Result<Option<Caller>, AccessError> {
        let conn = self.pool.get()?;
        let Some(c) = storage::certificate(&conn, serial)? else {
            return Ok(None);
        };
        if c.state != "delivered" {
            return Ok(None);
        }
        let Some(person) = storage::accessor(&conn, c.habilitation)? else {
            return Ok(None);
        };
        let attachments = storage::attachments_of_person(&conn, c.habilitation, true)?
            .into_iter()
            .map(|a| CallerAttachment {
                establishment: a.protocol_id,
                role: a.role,
                sends_dosimetry: a.sends_dosimetry,
            })
            .collect();
        Ok(Some(Caller {
            habilitation: c.habilitation,
            display_name: display_name(&person),
            attachments,
        }))
    }

    /// Checks an access code: 5 failures lock the access until an operator resets it.
    pub fn check_access_code(&self, hab: u32, code: &str) -> Result<(), AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let row = storage::access_code(&tx, hab)?.ok_or(AccessError::AccessLocked)?;
        if row.status == "locked" {
            return Err(AccessError::AccessLocked);
        }
        if self.key.verify(ACCESS_CODE, code.trim(), &row.code_hmac) {
            storage::access_code_success(&tx, hab)?;
            audit(
                &tx,
                now,
                &format!("accessor:{hab}"),
                "registry.login",
                &hab.to_string(),
                &[],
            )?;
            tx.commit()?;
            return Ok(());
        }
        let max = i64::from(self.config.access_code_max_attempts);
        let failures = storage::access_code_failure(&tx, hab, max, now)?;
        if failures >= max {
            audit(
                &tx,
                now,
                &format!("accessor:{hab}"),
                "registry.access_locked",
                &hab.to_string(),
                &[],
            )?;
            tx.commit()?;
            return Err(AccessError::AccessLocked);
        }
        audit(
            &tx,
            now,
            &format!("accessor:{hab}"),
            "registry.login_failed",
            &hab.to_string(),
            &[],
        )?;
        tx.commit()?;
        Err(AccessError::WrongAccessCode {
            attempts_left: u32::try_from(max - failures).unwrap_or(0),
        })
    }

    /// *Établissement de rattachement*: number, key name, address, accessors and roles.
    pub fn establishment(&self, id: i64) -> Result<Option<EstablishmentView>, AccessError> {
        let conn = self.pool.get()?;
        let versions = storage::versions_of_id(&conn, id)?;
        let Some(v) = versions.iter().rev().find(|v| v.status == "approved") else {
            return Ok(None);
        };
        let input: ProtocolInput =
            serde_json::from_str(&v.input).map_err(|e| AccessError::Internal(e.to_string()))?;
        let mut accessors = Vec::new();
        for a in storage::attachments_of_protocol(&conn, id)? {
            if let Some(p) = storage::accessor(&conn, a.habilitation)? {
                accessors.push((display_name(&p), a.role));
            }
        }
        Ok(Some(EstablishmentView {
            id,
            number: v.number.clone(),
            key_name: v.key_name.clone(),
            employer: input.employer,
            accessors,
        }))
    }
}

fn person_subject(person: &AccessorRow) -> ca::Subject {
    ca::Subject::Person {
        first_name: person.first_name.clone(),
        last_name: person.last_name.clone(),
        habilitation: u64::from(person.habilitation),
        email: person.email.clone(),
    }
}

fn summary(v: &storage::ReviewRow) -> VersionSummary {
    let employer = serde_json::from_str::<ProtocolInput>(&v.input)
        .ok()
        .and_then(|i| i.employer.name)
        .unwrap_or_default();
    VersionSummary {
        number: v.number.clone(),
        version: v.version,
        status: v.status.clone(),
        employer,
        signed_at: from_unix(v.signed_at),
    }
}
