//! The registry's schema, applied by the binary at start-up (after the CA's, whose audit log the
//! registry writes to).

use store::migrate::Migration;

/// `registry`'s migrations, in order.
pub const MIGRATIONS: &[Migration] = store::migrations![
    1 => "0001_workers_doses.sql",
    2 => "0002_nir_index.sql",
    3 => "0003_dosimetry_bodies.sql",
    4 => "0004_refold_search_keys.sql" then crate::storage::refold_search_keys,
    5 => "0005_persons_employments.sql",
    6 => "0006_limit_alerts.sql",
    7 => "0007_dose_model.sql",
    8 => "0008_transmissions.sql",
    10 => "0010_alerts_closed_by_correction.sql",
    11 => "0011_correction_key.sql",
    12 => "0012_workers_person_covering.sql",
    13 => "0013_dose_checks.sql",
    14 => "0014_doses_worker_narrow.sql",
];
