//! SQL of the transmissions, their récépissés and their pending lines (migration 0008).

use rusqlite::{params, Connection, OptionalExtension};
use store::date::IsoDay;
use store::pool::Pragmas;
use time::Date;

use crate::date::iso;
use crate::dose::{DoseInput, DoseKind, NewDose, Sender};
use crate::limits::Contribution;
use crate::nir::Nir;
use crate::storage_alerts::{contribution_at, CONTRIBUTION_COLUMNS};
use crate::transmission::{PendingLine, TransmissionSummary};
use crate::Result;

/// The recording connection's page cache, in KiB (SQLite's default is 2 MB).
pub(crate) const RECEIVING_CACHE_KIB: u32 = 16 * 1024;

/// The lookup connection's page cache, in KiB. Its reads go at random through the persons' NIR
/// index (some 30 MB at a million persons): with 16 MiB, most of them missed the cache and
/// were read again from the file, a system call each, and a million-line transmission took
/// half as long again per line as one of 300,000. The cache fills only as far as it is used;
/// 48 MiB missed less but took the daemon's peak to 153 MB (the goal is under 150).
pub(crate) const LOOKUP_CACHE_KIB: u32 = 32 * 1024;

/// Sets `conn` up for receiving one transmission (a page cache of `cache_kib`); its settings
/// are put back when the returned guard is dropped. Outside a transaction (SQLite refuses
/// `temp_store` in one).
///
/// A million lines in one transaction write three B-trees per result (four for a correction)
/// and read the person's, the employment's and the windows' pages: with SQLite's default 2 MB
/// page cache the transaction spills dirty pages to the WAL and reads pages back at every few
/// lines. A statement that keeps a statement journal (the pages it changed, to undo it alone
/// if it fails; since migration 0011 a result's insert no longer does) spills it to a
/// temporary file once one statement's exceeded 64 KiB, after which every later statement of
/// the transaction writes its journal there, a system call per page: in memory
/// (`temp_store = MEMORY`) it stays a copy. Measured with `perf` on
/// `scripts/bench_transmissions.sh`: those writes and reads had taken about a third of the
/// receiving thread.
pub(crate) fn set_up_receiving(conn: &Connection, cache_kib: u32) -> Result<Pragmas<'_>> {
    let kept = Pragmas::remember(conn, &["cache_size", "temp_store"])?;
    conn.execute_batch(&format!(
        "PRAGMA cache_size = -{cache_kib}; PRAGMA temp_store = MEMORY"
    ))?;
    Ok(kept)
}

/// A fresh transmission row, its counts and hash filled in by [`finish`]; returns its id.
pub(crate) fn start(
    conn: &Connection,
    sender: &str,
    subject: &str,
    serial: &str,
    now: &str,
    year: i32,
    format: &str,
) -> Result<(i64, String)> {
    let id: i64 = conn.query_row(
        "SELECT coalesce(max(id), 0) + 1 FROM registry_transmissions",
        [],
        |r| r.get(0),
    )?;
    let number = format!("RT-{year:04}-{id:09}");
    conn.execute(
        "INSERT INTO registry_transmissions (id, number, sender, sender_subject, sender_serial,
             sha256, received_at, format, lines, accepted, pending, rejected, document)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, 0, 0, x'')",
        params![
            id,
            number,
            sender,
            subject,
            serial,
            "0".repeat(64),
            now,
            format
        ],
    )?;
    Ok((id, number))
}

/// The transmission of the same file by the same sender, if one was recorded: its id.
pub(crate) fn same_file(conn: &Connection, sender: &str, sha256: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM registry_transmissions WHERE sender = ?1 AND sha256 = ?2",
            params![sender, sha256],
            |r| r.get(0),
        )
        .optional()?)
}

/// The counts, the hash and the document to sign of transmission `id`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    conn: &Connection,
    id: i64,
    sha256: &str,
    lines: u64,
    accepted: u64,
    pending: u64,
    rejected: u64,
    document: &[u8],
) -> Result<()> {
    conn.execute(
        "UPDATE registry_transmissions SET sha256 = ?2, lines = ?3, accepted = ?4, pending = ?5,
             rejected = ?6, document = ?7 WHERE id = ?1",
        params![
            id,
            sha256,
            lines as i64,
            accepted as i64,
            pending as i64,
            rejected as i64,
            document
        ],
    )?;
    Ok(())
}

/// The document and the signed récépissé (when signed) of transmission `id`.
pub(crate) fn receipt(conn: &Connection, id: i64) -> Result<(String, Vec<u8>, Option<Vec<u8>>)> {
    Ok(conn.query_row(
        "SELECT number, document, recepisse FROM registry_transmissions WHERE id = ?1",
        params![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

/// Stores the signed récépissé of transmission `id`.
pub(crate) fn store_receipt(conn: &Connection, id: i64, der: &[u8], now: &str) -> Result<()> {
    conn.execute(
        "UPDATE registry_transmissions SET recepisse = ?2, signed_at = ?3
         WHERE id = ?1 AND recepisse IS NULL",
        params![id, der, now],
    )?;
    Ok(())
}

/// The transmission numbered `number`, with its sender.
pub(crate) fn by_number(conn: &Connection, number: &str) -> Result<Option<(i64, String)>> {
    Ok(conn
        .query_row(
            "SELECT id, sender FROM registry_transmissions WHERE number = ?1",
            params![number],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

const SUMMARY: &str = "SELECT number, sender, sender_subject, sender_serial, sha256, received_at,
    format, lines, accepted, pending, rejected, recepisse IS NOT NULL,
    (SELECT count(*) FROM registry_transmission_pending p
     WHERE p.transmission_id = t.id AND p.state = 'pending')
    FROM registry_transmissions t";

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<TransmissionSummary> {
    Ok(TransmissionSummary {
        number: r.get(0)?,
        sender: r.get(1)?,
        sender_subject: r.get(2)?,
        sender_serial: r.get(3)?,
        sha256: r.get(4)?,
        received_at: r.get(5)?,
        format: r.get(6)?,
        lines: r.get(7)?,
        accepted: r.get(8)?,
        pending: r.get(9)?,
        rejected: r.get(10)?,
        signed: r.get(11)?,
        still_pending: r.get(12)?,
    })
}

/// Every transmission, newest first (at most `limit`).
pub(crate) fn list(conn: &Connection, limit: u32) -> Result<Vec<TransmissionSummary>> {
    let mut stmt = conn.prepare(&format!("{SUMMARY} ORDER BY t.id DESC LIMIT ?1"))?;
    let rows = stmt.query_map(params![limit], summary)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One transmission by number.
pub(crate) fn get(conn: &Connection, number: &str) -> Result<Option<TransmissionSummary>> {
    Ok(conn
        .query_row(&format!("{SUMMARY} WHERE t.number = ?1"), [number], summary)
        .optional()?)
}

/// What the registry knows of a line's NIR, asked once per line: the person (if any employer
/// declared the NIR) and their employment in the establishment the line is for.
pub(crate) struct Known {
    pub person: i64,
    /// Folded "LAST FIRST".
    pub search_name: String,
    /// `aaaa-mm-jj`, as far as the registry knows it.
    pub birth_date: Option<String>,
    /// The employment in the establishment (on the list or removed from it).
    pub worker: Option<i64>,
    /// Whether that employment is of category B (the 6 mSv check).
    pub category_b: bool,
    /// Whether a pregnancy was ever declared for the person.
    pub pregnancies: bool,
    /// Whether that employment has a result of the line's sender, reference, kind and period
    /// already (corrected or not): the line is a duplicate. Of what was committed before the
    /// transmission: a line for a person it recorded a result of already asks the transaction.
    pub duplicate: bool,
}

/// One line's question: the NIR, the establishment the line is for, the windows of the
/// line's result (the results ending within them count in its limits; they hold its period),
/// and what makes the result the same as one received already.
pub(crate) struct Ask<'a> {
    pub establishment: i64,
    pub nir: &'a Nir,
    pub from: Date,
    pub to: Date,
    pub reference: &'a str,
    pub kind: DoseKind,
    pub period_start: Date,
    pub period_end: Date,
}

/// What the registry knows of one line's NIR, with the parts in the limits' sums of the
/// person's results within the line's windows; `None` when no employer declared the NIR.
pub(crate) type Found = Option<(Known, Vec<Contribution>)>;

/// What the lookup thread asks for a batch of lines, prepared once per transmission (a cached
/// statement is looked up by its text's hash at every use).
pub(crate) struct Lookup<'c> {
    stmt: rusqlite::Statement<'c>,
    /// The persons a pregnancy was ever declared for, in order: read once, at the start of the
    /// lookup's read transaction (a transmission records no pregnancy).
    pregnant: Vec<i64>,
}

impl<'c> Lookup<'c> {
    /// Prepares the lookup of the lines `source` sends on `conn` (and gives it the `rarray`
    /// table-valued function).
    pub(crate) fn new(conn: &'c Connection, source: &str) -> Result<Self> {
        // One statement for a batch of lines, where one per line was asked: each
        // execution opens a cursor on each table and index it reads and descends from its
        // root, and a line's own B-tree work (the NIR index, the person, their employments,
        // their results) was less than half of the thread's time; measured with `perf` on
        // `scripts/bench_transmissions.sh`. The lines' NIRs are an array (`rarray`, whose
        // rowid is the place in it, from 1): a VALUES list or a compound SELECT would be
        // copied into a temporary B-tree at every execution. A line whose NIR no employer
        // declared has no row. The results are those within the windows of every line of
        // the batch, each line keeping those within its own.
        //
        // The person's employments are joined to their current results, one row each (and one
        // row with no result when they have none). The employment in the line's establishment
        // is found among the person's, not through the (establishment, NIR) index: a file's
        // NIRs come in no order, and with one index searched at random where there were two,
        // the pages searched at random at a million lines fit the connection's cache
        // (`LOOKUP_CACHE_KIB`). The employments' index on person_id holds what is read of
        // them (registry migration 0012): their rows are not read.
        //
        // Neither the pregnancies nor whether a result was corrected are asked by a subquery:
        // SQLite runs a correlated subquery as a program of its own, which opens its cursor,
        // seeks and closes it again at every row. A correction of a result is joined instead
        // (one at most, `registry_doses_replaces` being unique), its result skipped here;
        // the persons with a pregnancy are read once.
        //
        // The employment's results within the line's window hold any result of the line's
        // period: whether one of them is of the same sender, reference and kind (registry
        // migration 0014: no unique index says it) is read on the same rows, the sender's
        // reference only where the sender is the line's.
        rusqlite::vtab::array::load_module(conn)?;
        let pregnant = conn
            .prepare("SELECT DISTINCT person_id FROM registry_pregnancies ORDER BY person_id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        let mut stmt = conn.prepare(&lookup_sql())?;
        stmt.raw_bind_parameter(4, source)?;
        Ok(Self { stmt, pregnant })
    }

    /// For each of `asks` (a batch between two threads), in their order: [`Known`] of its NIR for
    /// its establishment (and whether the line is a duplicate there), with the parts in the
    /// limits' sums of the person's current results ending within its windows (every employment
    /// together); `None` when no employer declared the NIR.
    pub(crate) fn find(&mut self, asks: &[Ask<'_>]) -> Result<Vec<Found>> {
        let mut found: Vec<Found> = std::iter::repeat_with(|| None).take(asks.len()).collect();
        let (Some(from), Some(to)) = (
            asks.iter().map(|a| a.from).min(),
            asks.iter().map(|a| a.to).max(),
        ) else {
            return Ok(found);
        };
        let nirs: rusqlite::vtab::array::Array = std::rc::Rc::new(
            asks.iter()
                .map(|a| rusqlite::types::Value::Text(a.nir.as_str().to_owned()))
                .collect(),
        );
        let Self { stmt, pregnant } = self;
        // The sender (?4) stays bound from `new`.
        stmt.raw_bind_parameter(1, nirs)?;
        stmt.raw_bind_parameter(2, IsoDay::of(from))?;
        stmt.raw_bind_parameter(3, IsoDay::of(to))?;
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            // The array's rowids count from 1.
            let i = usize::try_from(row.get::<_, i64>(0)? - 1).unwrap_or(usize::MAX);
            let (Some(ask), Some(slot)) = (asks.get(i), found.get_mut(i)) else {
                continue;
            };
            let (known, results) = match slot {
                Some(found) => found,
                None => {
                    let person = row.get(1)?;
                    slot.insert((
                        Known {
                            person,
                            search_name: row.get(2)?,
                            birth_date: row.get(3)?,
                            pregnancies: pregnant.binary_search(&person).is_ok(),
                            worker: None,
                            category_b: false,
                            duplicate: false,
                        },
                        Vec::new(),
                    ))
                }
            };
            // The employment of the line's establishment under the line's NIR, if this row is
            // it.
            let employment = row.get::<_, Option<i64>>(4)?;
            if known.worker.is_none() {
                if let Some(id) = employment {
                    let here = row.get::<_, i64>(5)? == ask.establishment
                        && text(row, 6)? == Some(ask.nir.as_str());
                    if here {
                        known.worker = Some(id);
                        known.category_b = row.get::<_, Option<bool>>(7)?.unwrap_or(false);
                    }
                }
            }
            let Some(result) = contribution_at(row, 9)? else {
                continue;
            };
            // A result of the line's employment and period, sent by the line's sender: the
            // same reference and kind make the line a duplicate.
            if employment.is_some()
                && employment == known.worker
                && result.period_end == ask.period_end
                && text(row, DUPLICATE_AT)? == Some(ask.reference)
                && text(row, DUPLICATE_AT + 1)? == Some(ask.kind.as_str())
                && text(row, DUPLICATE_AT + 2)? == Some(IsoDay::of(ask.period_start).as_str())
            {
                known.duplicate = true;
            }
            // A corrected result no longer counts (its correction does, on its own row).
            if row.get::<_, Option<bool>>(8)? != Some(true)
                && (ask.from..=ask.to).contains(&result.period_end)
            {
                results.push(result);
            }
        }
        Ok(found)
    }
}

/// Text column `i` of `row`, without copying it (`None` when NULL).
fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(row.get_ref(i)?.as_str_or_null()?)
}

/// Where the lookup's columns of a duplicate begin: the sender's reference (where the sender is
/// the lookup's), the kind and the first day.
const DUPLICATE_AT: usize = 14;

/// The statement of [`Lookup`] (see there why it reads as it does): a row per employment of
/// each line's person and current-or-corrected result in the batch's windows.
fn lookup_sql() -> String {
    format!(
        "SELECT line.rowid, p.id, p.search_name, p.birth_date,
                e.id, e.establishment_id, e.nir, e.category = 'B', c.id IS NOT NULL,
                {columns},
                CASE WHEN d.source = ?4 THEN d.reference END, d.kind, d.period_start
         FROM rarray(?1) AS line
         JOIN registry_persons p ON p.nir = line.value
         LEFT JOIN registry_workers e ON e.person_id = p.id
         LEFT JOIN registry_doses d ON d.worker_id = e.id
             AND d.period_end BETWEEN ?2 AND ?3
         LEFT JOIN registry_doses c ON c.replaces_id = d.id",
        columns = *CONTRIBUTION_COLUMNS
    )
}

/// The identity of the person employment `worker` is of.
pub(crate) fn person_identity_of_worker(
    conn: &Connection,
    worker: i64,
) -> Result<Option<(String, Option<String>)>> {
    Ok(conn
        .prepare_cached(
            "SELECT p.search_name, p.birth_date FROM registry_persons p
             JOIN registry_workers w ON w.person_id = p.id WHERE w.id = ?1",
        )?
        .query_row([worker], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Whether employment `worker` already has a result of this sender, reference, kind and period.
pub(crate) fn is_duplicate(
    conn: &Connection,
    worker: i64,
    source: &str,
    reference: &str,
    d: &NewDose,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM registry_doses WHERE worker_id = ?1 AND source = ?2
             AND reference = ?3 AND kind = ?4 AND period_start = ?5 AND period_end = ?6",
        )?
        .query_row(
            params![
                worker,
                source,
                reference,
                d.kind.as_str(),
                iso(d.period_start),
                iso(d.period_end)
            ],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Whether a pending line of this sender, reference, kind and period waits for `nir` there.
pub(crate) fn is_pending_duplicate(
    conn: &Connection,
    establishment: i64,
    nir: &Nir,
    source: &str,
    reference: &str,
    d: &NewDose,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM registry_transmission_pending WHERE establishment_id = ?1
             AND nir = ?2 AND state = 'pending' AND source = ?3 AND reference = ?4 AND kind = ?5
             AND period_start = ?6 AND period_end = ?7",
        )?
        .query_row(
            params![
                establishment,
                nir.as_str(),
                source,
                reference,
                d.kind.as_str(),
                iso(d.period_start),
                iso(d.period_end)
            ],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The current result of employment `worker`, kind `kind`, that `source` sent as `reference`.
pub(crate) fn by_reference(
    conn: &Connection,
    worker: i64,
    source: &str,
    reference: &str,
    kind: DoseKind,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT d.id FROM registry_doses d WHERE d.worker_id = ?1 AND d.source = ?2
             AND d.reference = ?3 AND d.kind = ?4
             AND NOT EXISTS (SELECT 1 FROM registry_doses c WHERE c.replaces_id = d.id)
             ORDER BY d.id DESC LIMIT 1",
        )?
        .query_row(params![worker, source, reference, kind.as_str()], |r| {
            r.get(0)
        })
        .optional()?)
}

/// What a pending line keeps to become a result once its worker is declared.
pub(crate) struct NewPending<'a> {
    pub transmission: i64,
    pub line: u64,
    pub establishment: i64,
    pub nir: &'a Nir,
    pub search_name: &'a str,
    pub birth_date: &'a str,
    pub input: &'a DoseInput,
    pub dose: &'a NewDose,
    pub reference: &'a str,
    pub replaces_ref: Option<&'a str>,
    pub sender: Sender,
    pub source: &'a str,
    pub now: &'a str,
}

/// Keeps a line pending.
pub(crate) fn insert_pending(conn: &Connection, p: &NewPending<'_>) -> Result<()> {
    let result = serde_json::to_string(p.input)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.prepare_cached(
        "INSERT INTO registry_transmission_pending (transmission_id, line, establishment_id, nir,
             search_name, birth_date, kind, period_start, period_end, result, reference,
             replaces_ref, sender, source, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        p.transmission,
        p.line as i64,
        p.establishment,
        p.nir.as_str(),
        p.search_name,
        p.birth_date,
        p.dose.kind.as_str(),
        iso(p.dose.period_start),
        iso(p.dose.period_end),
        result,
        p.reference,
        p.replaces_ref,
        p.sender.as_str(),
        p.source,
        p.now
    ])?;
    Ok(())
}

/// A pending line whose NIR the establishment now declares.
pub(crate) struct Attachable {
    pub id: i64,
    pub worker: i64,
    pub transmission: i64,
    pub search_name: String,
    pub birth_date: Option<String>,
    pub input: String,
    pub reference: String,
    pub replaces_ref: Option<String>,
    pub sender: String,
    pub source: String,
}

/// The pending lines of `establishment` whose NIR is now on its list (or was: results keep
/// coming after someone leaves), oldest first.
pub(crate) fn attachable(conn: &Connection, establishment: i64) -> Result<Vec<Attachable>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, w.id, p.transmission_id, p.search_name, p.birth_date, p.result,
                p.reference, p.replaces_ref, p.sender, p.source
         FROM registry_transmission_pending p
         JOIN registry_workers w ON w.establishment_id = p.establishment_id AND w.nir = p.nir
         WHERE p.establishment_id = ?1 AND p.state = 'pending'
         ORDER BY p.id",
    )?;
    let rows = stmt.query_map([establishment], |r| {
        Ok(Attachable {
            id: r.get(0)?,
            worker: r.get(1)?,
            transmission: r.get(2)?,
            search_name: r.get(3)?,
            birth_date: r.get(4)?,
            input: r.get(5)?,
            reference: r.get(6)?,
            replaces_ref: r.get(7)?,
            sender: r.get(8)?,
            source: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Settles a pending line: attached as result `dose`, or refused for `reason`.
pub(crate) fn settle(
    conn: &Connection,
    id: i64,
    dose: Option<i64>,
    reason: Option<&str>,
    now: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE registry_transmission_pending
         SET state = CASE WHEN ?2 IS NULL THEN 'refused' ELSE 'attached' END,
             dose_id = ?2, reason = ?3, settled_at = ?4
         WHERE id = ?1 AND state = 'pending'",
        params![id, dose, reason, now],
    )?;
    Ok(())
}

/// Pending lines received on or before `before` (every one when `None`), oldest first, at most
/// `limit`; with `number`, only that transmission's, whatever their state.
pub(crate) fn pending(
    conn: &Connection,
    before: Option<&str>,
    number: Option<&str>,
    limit: u32,
) -> Result<Vec<PendingLine>> {
    let mut stmt = conn.prepare(
        "SELECT t.number, p.line, p.establishment_id, p.nir, p.kind, p.period_start,
                p.period_end, p.received_at, p.state, p.reason
         FROM registry_transmission_pending p
         JOIN registry_transmissions t ON t.id = p.transmission_id
         WHERE (?3 IS NOT NULL AND t.number = ?3)
            OR (?3 IS NULL AND p.state = 'pending' AND (?1 IS NULL OR p.received_at <= ?1))
         ORDER BY p.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![before, limit, number], |r| {
        let nir: String = r.get(3)?;
        Ok(PendingLine {
            transmission: r.get(0)?,
            line: r.get(1)?,
            establishment: r.get(2)?,
            // As `Nir::masked` shows it, the key aside (not kept with a pending line).
            nir_masked: format!("{} ** ** ** *** ***", nir.get(..1).unwrap_or("")),
            kind: r.get(4)?,
            period_start: r.get(5)?,
            period_end: r.get(6)?,
            received_at: r.get(7)?,
            state: r.get(8)?,
            reason: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An employment §3 watches: its id, its establishment, the worker's name, its category, and
/// its first and last days (`aaaa-mm-jj`; no last day while on the list).
pub(crate) struct Watched {
    pub worker: i64,
    pub establishment: i64,
    /// `NOM Prénom`, as the employer declared it.
    pub name: String,
    pub category: String,
    pub from: String,
    pub to: Option<String>,
}

/// The employments §3 watches: of a classified worker (category A or B), in an establishment
/// that named a dosimetry body, with the days of employment; `establishment` narrows it.
pub(crate) fn watched(conn: &Connection, establishment: Option<i64>) -> Result<Vec<Watched>> {
    let mut stmt = conn.prepare(
        "SELECT w.id, w.establishment_id, w.last_name || ' ' || w.first_name, w.category,
                w.employed_from, w.employed_to
         FROM registry_workers w
         WHERE w.category IN ('A', 'B')
           AND (?1 IS NULL OR w.establishment_id = ?1)
           AND w.establishment_id IN (SELECT establishment_id FROM registry_dosimetry_bodies)
         ORDER BY w.establishment_id, w.id",
    )?;
    let rows = stmt.query_map(params![establishment], |r| {
        Ok(Watched {
            worker: r.get(0)?,
            establishment: r.get(1)?,
            name: r.get(2)?,
            category: r.get(3)?,
            from: r.get(4)?,
            to: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether employment `worker` has a current passive, radon or *absence de résultat* meeting
/// `[from, to]`.
pub(crate) fn covered(conn: &Connection, worker: i64, from: Date, to: Date) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM registry_doses d WHERE d.worker_id = ?1
             AND d.kind IN ('passive', 'radon', 'no_result')
             AND d.period_start <= ?3 AND d.period_end >= ?2
             AND NOT EXISTS (SELECT 1 FROM registry_doses c WHERE c.replaces_id = d.id)
             LIMIT 1",
        )?
        .query_row(params![worker, iso(from), iso(to)], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn person(conn: &Connection, id: i64, nir: &str, key: &str, name: &str) {
        conn.execute(
            "INSERT INTO registry_persons (id, nir, nir_key, last_name, first_name, birth_date,
                 search_name, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'Zoé', '1970-01-01', ?4 || ' ZOE', 'x', 'x')",
            params![id, nir, key, name],
        )
        .unwrap();
    }

    fn employment(conn: &Connection, id: i64, establishment: i64, person: i64, category: &str) {
        conn.execute(
            "INSERT INTO registry_workers (id, establishment_id, nir, nir_key, last_name,
                 first_name, search_name, category, created_at, updated_at, person_id)
             SELECT ?1, ?2, nir, nir_key, last_name, first_name, search_name, ?4, 'x', 'x', id
             FROM registry_persons WHERE id = ?3",
            params![id, establishment, person, category],
        )
        .unwrap();
    }

    fn result(conn: &Connection, worker: i64, end: &str, hp10_usv: i64) {
        conn.execute(
            "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, hp10_usv,
                 sender, source, recorded_at, reference)
             VALUES (?1, 'passive', date(?2, 'start of month'), ?2, ?3, 'body',
                     'organisme:LABO', 'x', ?2)",
            params![worker, end, hp10_usv],
        )
        .unwrap();
    }

    /// Employment 10's result of March 2025 corrected by LABO's "R-corrige" (3 mSv).
    fn march_corrected(conn: &Connection) {
        conn.execute(
            "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, hp10_usv,
                 sender, source, recorded_at, reference, replaces_id)
             SELECT 10, 'passive', '2025-03-01', '2025-03-31', 3_000, 'body', 'organisme:LABO',
                    'x', 'R-corrige', id
             FROM registry_doses WHERE worker_id = 10 AND period_end = '2025-03-31'",
            [],
        )
        .unwrap();
    }

    fn nir(number: &str, key: &str) -> Nir {
        Nir::parse(number, key).unwrap()
    }

    /// The lookup reads no employment's row (registry migration 0012's covering index), finds a
    /// result's correction through the corrections' index, and runs no correlated subquery
    /// (a program that opens, seeks and closes its cursor at every row).
    #[test]
    fn the_lookup_reads_what_it_was_measured_to_read() {
        let conn = crate::storage::migrated_in_memory();
        rusqlite::vtab::array::load_module(&conn).unwrap();
        let nirs: rusqlite::vtab::array::Array =
            std::rc::Rc::new(vec![rusqlite::types::Value::Text("1700367482001".into())]);
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", lookup_sql()))
            .unwrap();
        let plan = stmt
            .query_map(
                params![nirs, "2025-01-01", "2025-12-31", "organisme:LABO"],
                |r| r.get::<_, String>(3),
            )
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
            .join("\n");
        for step in [
            "SEARCH p USING INDEX registry_persons_nir (nir=?)",
            "SEARCH e USING COVERING INDEX registry_workers_person (person_id=?)",
            "SEARCH d USING INDEX registry_doses_worker (worker_id=? AND period_end>? AND period_end<?)",
            "SEARCH c USING COVERING INDEX registry_doses_replaces (replaces_id=?)",
        ] {
            assert!(plan.contains(step), "{step} not in:\n{plan}");
        }
        assert!(!plan.contains("SUBQUERY"), "{plan}");
    }

    /// One statement answers each line of a batch on its own: its NIR, its establishment, its
    /// windows; the same person asked twice with other windows gets other results.
    #[test]
    fn a_batch_is_answered_line_by_line() {
        let conn = crate::storage::migrated_in_memory();
        person(&conn, 1, "1700367482001", "86", "DUPONT");
        person(&conn, 2, "2850175123456", "56", "MARTIN");
        // Person 1 works in establishments 7 (category B) and 8; person 2 in 8 only.
        employment(&conn, 10, 7, 1, "B");
        employment(&conn, 11, 8, 1, "A");
        employment(&conn, 12, 8, 2, "A");
        result(&conn, 10, "2024-01-31", 1_000);
        result(&conn, 11, "2025-06-30", 2_000);
        result(&conn, 12, "2025-06-30", 4_000);
        // Person 1's result of March 2025 in 7 was corrected: only the correction counts.
        result(&conn, 10, "2025-03-31", 9_000);
        march_corrected(&conn);
        // A pregnancy was declared for person 2.
        conn.execute(
            "INSERT INTO registry_pregnancies (person_id, declared_on, ends_on, declared_by,
                 recorded_at)
             VALUES (2, '2025-02-01', '2025-10-31', 'x', 'x')",
            [],
        )
        .unwrap();
        let (dupont, martin) = (nir("1700367482001", "86"), nir("2850175123456", "56"));
        let unknown = nir("1920299123123", "46");
        let ask = |establishment, nir, from, to| Ask {
            establishment,
            nir,
            from,
            to,
            reference: "R-nouveau",
            kind: DoseKind::Passive,
            period_start: date!(2025 - 11 - 01),
            period_end: date!(2025 - 11 - 30),
        };
        let asks = [
            ask(7, &unknown, date!(2025 - 01 - 01), date!(2025 - 12 - 31)),
            ask(7, &martin, date!(2025 - 01 - 01), date!(2025 - 12 - 31)),
            ask(7, &dupont, date!(2025 - 01 - 01), date!(2025 - 12 - 31)),
            ask(8, &dupont, date!(2023 - 12 - 01), date!(2024 - 02 - 29)),
        ];
        let mut lookup = Lookup::new(&conn, "organisme:LABO").unwrap();
        let found = lookup.find(&asks).unwrap();
        assert_eq!(found.len(), 4);
        assert!(found.iter().flatten().all(|(k, _)| !k.duplicate));
        assert!(found[0].is_none(), "no employer declared this NIR");
        let ends = |r: &[Contribution]| r.iter().map(|c| c.period_end).collect::<Vec<_>>();
        // Known, not employed in 7: no employment, her result in 8 counts all the same.
        let (k, r) = found[1].as_ref().unwrap();
        assert_eq!((k.person, k.worker, k.category_b), (2, None, false));
        assert_eq!(k.search_name, "MARTIN ZOE");
        assert!(k.pregnancies);
        assert_eq!(ends(r), [date!(2025 - 06 - 30)]);
        // Employed in 7, category B; only the results within this line's windows, the
        // corrected one not among them (its correction is).
        let (k, r) = found[2].as_ref().unwrap();
        assert_eq!((k.person, k.worker, k.category_b), (1, Some(10), true));
        assert_eq!(k.birth_date.as_deref(), Some("1970-01-01"));
        assert!(!k.pregnancies);
        let mut parts: Vec<_> = r.iter().map(|c| (c.period_end, c.effective_usv)).collect();
        parts.sort();
        assert_eq!(
            parts,
            [
                (date!(2025 - 03 - 31), 3_000),
                (date!(2025 - 06 - 30), 2_000)
            ]
        );
        // The same person for 8, other windows: the other employment, the other result.
        let (k, r) = found[3].as_ref().unwrap();
        assert_eq!((k.person, k.worker, k.category_b), (1, Some(11), false));
        assert_eq!(ends(r), [date!(2024 - 01 - 31)]);
        // Asked again (the statement is reused) and with nothing to ask.
        assert_eq!(
            lookup.find(&asks[2..3]).unwrap()[0]
                .as_ref()
                .unwrap()
                .0
                .worker,
            Some(10)
        );
        assert!(lookup.find(&[]).unwrap().is_empty());
    }

    /// A line is a duplicate when a stored result of its employment has its sender, reference,
    /// kind and period, corrected or not; not when only the employment, the sender, the
    /// reference, the kind, the first day or the last day differs (registry migration 0014: no unique index says it any more).
    #[test]
    fn the_lookup_finds_a_result_received_already() {
        let conn = crate::storage::migrated_in_memory();
        person(&conn, 1, "1700367482001", "86", "DUPONT");
        employment(&conn, 10, 7, 1, "A");
        employment(&conn, 11, 8, 1, "A");
        // In 7, March 2025 (reference "2025-03-31"), corrected by "R-corrige"; in 8, April.
        result(&conn, 10, "2025-03-31", 9_000);
        march_corrected(&conn);
        result(&conn, 11, "2025-04-30", 1_000);
        let dupont = nir("1700367482001", "86");
        let line = |establishment, reference, kind, period_start, period_end| Ask {
            establishment,
            nir: &dupont,
            from: date!(2025 - 01 - 01),
            to: date!(2025 - 12 - 31),
            reference,
            kind,
            period_start,
            period_end,
        };
        let (march, end_of_march) = (date!(2025 - 03 - 01), date!(2025 - 03 - 31));
        let (april, end_of_april) = (date!(2025 - 04 - 01), date!(2025 - 04 - 30));
        let asks = [
            // The corrected result and its correction: both received.
            (
                line(7, "2025-03-31", DoseKind::Passive, march, end_of_march),
                true,
            ),
            (
                line(7, "R-corrige", DoseKind::Passive, march, end_of_march),
                true,
            ),
            (
                line(8, "2025-04-30", DoseKind::Passive, april, end_of_april),
                true,
            ),
            // Another employment of the same person, kind, first day, reference.
            (
                line(8, "2025-03-31", DoseKind::Passive, march, end_of_march),
                false,
            ),
            (
                line(7, "2025-04-30", DoseKind::Passive, april, end_of_april),
                false,
            ),
            (
                line(7, "2025-03-31", DoseKind::Operational, march, end_of_march),
                false,
            ),
            (
                line(
                    7,
                    "2025-03-31",
                    DoseKind::Passive,
                    date!(2025 - 03 - 02),
                    end_of_march,
                ),
                false,
            ),
            (
                line(7, "2025-03-3", DoseKind::Passive, march, end_of_march),
                false,
            ),
            // The same first day, another last day.
            (
                line(7, "2025-03-31", DoseKind::Passive, march, end_of_april),
                false,
            ),
        ];
        let (asks, expected): (Vec<Ask<'_>>, Vec<bool>) = asks.into_iter().unzip();
        let duplicates = |source: &str| -> Vec<bool> {
            let mut lookup = Lookup::new(&conn, source).unwrap();
            lookup
                .find(&asks)
                .unwrap()
                .iter()
                .map(|f| f.as_ref().unwrap().0.duplicate)
                .collect()
        };
        assert_eq!(duplicates("organisme:LABO"), expected);
        // Another sender's lines are none of LABO's results.
        assert_eq!(duplicates("organisme:AUTRE"), vec![false; expected.len()]);
    }
}
