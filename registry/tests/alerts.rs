//! Limits and alerts across employers (issue 15 §3): the rolling sums add up every employer's
//! results, a crossing alerts the physicians and PCRs of the establishments concerned and
//! nobody else, the e-mail is queued with the alert, the physician acknowledges.

#[path = "support.rs"]
mod support;

use std::sync::{Arc, Mutex};

use registry::{
    AlertMail, DirectoryError, DoseInput, DoseKind, Limit, Principal, Registry, RegistryError,
    Role, WorkerInput, WorkerRef,
};
use support::*;

/// A third establishment, where the person never worked.
const THIRD: i64 = 3;

/// Records the establishments whose people an e-mail was queued for.
#[derive(Debug, Default)]
struct Mails(Mutex<Vec<i64>>);

impl AlertMail for Mails {
    fn queue(
        &self,
        _tx: &rusqlite::Transaction<'_>,
        establishment: i64,
        _now: time::OffsetDateTime,
    ) -> Result<usize, DirectoryError> {
        self.0.lock().expect("test step").push(establishment);
        Ok(1)
    }
}

fn other_cse() -> Principal {
    Principal::accessor("42101", [(OTHER, Role::Cse)])
}
fn other_mdt() -> Principal {
    Principal::accessor("42105", [(OTHER, Role::Mdt)])
}
fn other_pcr() -> Principal {
    Principal::accessor("42103", [(OTHER, Role::Pcr)])
}
fn third_pcr() -> Principal {
    Principal::accessor("42203", [(THIRD, Role::Pcr)])
}
fn third_mdt() -> Principal {
    Principal::accessor("42205", [(THIRD, Role::Mdt)])
}

fn effective(start: &str, end: &str, msv: f64) -> DoseInput {
    DoseInput {
        kind: DoseKind::Effective,
        period_start: start.into(),
        period_end: end.into(),
        hp10_msv: None,
        hp007_msv: None,
        e_msv: Some(msv),
        ..Default::default()
    }
}

struct Setup {
    env: Env,
    registry: Registry,
    mails: Arc<Mails>,
    at_a: i64,
    at_b: i64,
}

impl Setup {
    /// An effective dose for the worker at A, recorded by A's physician.
    fn effective_at_a(&self, start: &str, end: &str, msv: f64) {
        self.registry
            .record_dose(
                &mdt(),
                EST,
                &WorkerRef::Id(self.at_a),
                &effective(start, end, msv),
            )
            .expect("record_dose at A");
    }

    /// An effective dose for the worker at B, recorded by B's physician.
    fn effective_at_b(&self, start: &str, end: &str, msv: f64) {
        self.registry
            .record_dose(
                &other_mdt(),
                OTHER,
                &WorkerRef::Id(self.at_b),
                &effective(start, end, msv),
            )
            .expect("record_dose at B");
    }
}

/// The seed's worker employed by the surgery (A) and by the other employer (B); a third
/// establishment employs someone else.
fn setup() -> Setup {
    let env = env();
    let mails = Arc::new(Mails::default());
    let registry = env.registry.clone().with_alert_mail(mails.clone());
    let mut line: WorkerInput = seed_worker();
    let at_a = registry
        .apply_worker(&cse(), EST, &line)
        .expect("test step")
        .worker_id;
    line.new_card = false;
    let at_b = registry
        .apply_worker(&other_cse(), OTHER, &line)
        .expect("test step")
        .worker_id;
    registry
        .apply_worker(
            &Principal::accessor("42201", [(THIRD, Role::Cse)]),
            THIRD,
            &worker("DURAND", "Vincent", "1700367482001", "86"),
        )
        .expect("test step");
    Setup {
        env,
        registry,
        mails,
        at_a,
        at_b,
    }
}

#[test]
fn a_dose_from_employer_a_and_one_from_employer_b_add_up_in_the_rolling_sum() {
    let s = setup();
    s.effective_at_a("01/01/2025", "31/01/2025", 12.0);
    s.effective_at_b("01/03/2025", "31/03/2025", 7.5);
    for (who, establishment, worker) in [(pcr(), EST, s.at_a), (other_pcr(), OTHER, s.at_b)] {
        let rolling = s
            .registry
            .effective_dose(&who, establishment, worker, None)
            .expect("test step");
        assert_eq!(rolling.effective_msv, 19.5);
        assert_eq!(rolling.records, 2);
        assert!(!rolling.exceeds_limit);
    }
    // Below the limit: no alert yet.
    assert!(s
        .registry
        .alerts(&mdt(), EST)
        .expect("test step")
        .is_empty());
}

#[test]
fn a_limit_crossing_alerts_the_right_people_and_nobody_else() {
    let s = setup();
    s.effective_at_a("01/01/2025", "31/01/2025", 12.0);
    assert!(s.mails.0.lock().expect("test step").is_empty());
    // B's result, months later, takes the 12-month sum over 20 mSv.
    s.effective_at_b("01/05/2025", "31/05/2025", 8.5);

    // The physicians and PCRs of A and B see it, each with their own employment's id.
    for (who, establishment, worker) in [
        (mdt(), EST, s.at_a),
        (pcr(), EST, s.at_a),
        (other_mdt(), OTHER, s.at_b),
        (other_pcr(), OTHER, s.at_b),
    ] {
        let alerts = s.registry.alerts(&who, establishment).expect("test step");
        assert_eq!(alerts.len(), 1, "{establishment}");
        let a = &alerts[0];
        assert_eq!(a.limit, Limit::Effective);
        assert_eq!(a.worker_id, worker);
        assert_eq!((a.sum_msv, a.limit_msv), (20.5, 20.0));
        assert_eq!(
            (a.window_from.to_string(), a.window_to.to_string()),
            ("2024-06-01".into(), "2025-05-31".into())
        );
    }
    // Nobody else: not the third establishment, not the correspondents.
    assert!(s
        .registry
        .alerts(&third_pcr(), THIRD)
        .expect("test step")
        .is_empty());
    assert!(s
        .registry
        .alerts(&third_mdt(), THIRD)
        .expect("test step")
        .is_empty());
    for (who, establishment) in [(cse(), EST), (other_cse(), OTHER)] {
        assert!(matches!(
            s.registry.alerts(&who, establishment),
            Err(RegistryError::Forbidden { .. })
        ));
    }
    // Someone attached elsewhere cannot even name the establishment.
    assert!(matches!(
        s.registry.alerts(&third_pcr(), EST),
        Err(RegistryError::NotFound)
    ));
    // The e-mails went to the people of A and B, once each.
    assert_eq!(*s.mails.0.lock().expect("test step"), [EST, OTHER]);
    let raised = audit_rows(&s.env)
        .into_iter()
        .filter(|r| r.1 == "registry.alert.raise")
        .count();
    assert_eq!(raised, 1);
}

#[test]
fn an_alert_awaiting_acknowledgement_is_not_raised_again_and_only_a_physician_acknowledges() {
    let s = setup();
    let record = |who: &Principal, est, worker, start: &str, end: &str, msv| {
        s.registry
            .record_dose(
                who,
                est,
                &WorkerRef::Id(worker),
                &effective(start, end, msv),
            )
            .expect("test step")
    };
    record(&mdt(), EST, s.at_a, "01/01/2025", "31/01/2025", 21.0);
    record(&mdt(), EST, s.at_a, "01/02/2025", "28/02/2025", 1.0);
    let alerts = s.registry.alerts(&mdt(), EST).expect("test step");
    assert_eq!(alerts.len(), 1);
    // A's result alone: B has no result in the window, and is not concerned.
    assert!(s
        .registry
        .alerts(&other_mdt(), OTHER)
        .expect("test step")
        .is_empty());
    assert_eq!(*s.mails.0.lock().expect("test step"), [EST]);

    let id = alerts[0].id;
    assert!(matches!(
        s.registry.acknowledge_alert(&pcr(), EST, id),
        Err(RegistryError::Forbidden { .. })
    ));
    // Not an alert of B's: B's physician cannot reach it.
    assert!(matches!(
        s.registry.acknowledge_alert(&other_mdt(), OTHER, id),
        Err(RegistryError::NotFound)
    ));
    assert!(s
        .registry
        .acknowledge_alert(&mdt(), EST, id)
        .expect("test step"));
    assert!(!s
        .registry
        .acknowledge_alert(&mdt(), EST, id)
        .expect("test step"));
    let a = &s.registry.alerts(&pcr(), EST).expect("test step")[0];
    assert_eq!(a.acknowledged_by.as_deref(), Some("accessor:42005"));
    let acks: Vec<String> = audit_rows(&s.env)
        .into_iter()
        .filter(|r| r.1 == "registry.alert.acknowledge")
        .map(|r| r.0)
        .collect();
    assert_eq!(acks, ["accessor:42005", "accessor:42005"]);

    // Seen, then another result still above: a new alert.
    record(&mdt(), EST, s.at_a, "01/03/2025", "31/03/2025", 0.5);
    assert_eq!(s.registry.alerts(&mdt(), EST).expect("test step").len(), 2);
}

#[test]
fn a_worker_under_eighteen_is_alerted_above_six_millisieverts() {
    let s = setup();
    // An apprentice born in September 2008: 16 in 2025.
    let nir = "2080975123045";
    let mut line = worker("PETIT", "Léa", nir, &key_of(nir));
    line.birth_date = Some("14/09/2008".into());
    let apprentice = s
        .registry
        .apply_worker(&cse(), EST, &line)
        .expect("test step")
        .worker_id;
    s.registry
        .record_dose(
            &mdt(),
            EST,
            &WorkerRef::Id(apprentice),
            &effective("01/01/2025", "31/01/2025", 6.5),
        )
        .expect("test step");
    let alerts = s.registry.alerts(&mdt(), EST).expect("test step");
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].limit, alerts[0].limit_msv, alerts[0].worker_id),
        (Limit::Effective, 6.0, apprentice)
    );
    // The same dose for an adult raises nothing.
    s.effective_at_a("01/01/2025", "31/01/2025", 6.5);
    assert_eq!(s.registry.alerts(&mdt(), EST).expect("test step").len(), 1);
}

#[test]
fn a_worker_classified_b_above_six_millisieverts_should_be_a() {
    let s = setup();
    let mut line = seed_worker();
    line.operation = Some(registry::Operation::Modify);
    line.new_card = false;
    line.category = Some("B".into());
    s.registry
        .apply_worker(&cse(), EST, &line)
        .expect("test step");
    s.effective_at_a("01/01/2025", "31/01/2025", 6.5);
    let limits: Vec<Limit> = s
        .registry
        .alerts(&mdt(), EST)
        .expect("test step")
        .into_iter()
        .map(|a| a.limit)
        .collect();
    assert_eq!(limits, [Limit::CategoryB]);
    // B's list does not classify them: the category is A's business alone.
    assert!(s
        .registry
        .alerts(&other_mdt(), OTHER)
        .expect("test step")
        .is_empty());
}

#[test]
fn a_correction_below_the_limit_closes_the_alert_it_had_raised_and_says_so_in_the_audit() {
    let s = setup();
    let record = |input: &DoseInput| {
        s.registry
            .record_dose(&mdt(), EST, &WorkerRef::Id(s.at_a), input)
            .expect("test step")
    };
    record(&effective("01/01/2025", "31/01/2025", 12.0));
    let mistyped = record(&effective("01/02/2025", "28/02/2025", 21.0));
    let alerts = s.registry.alerts(&mdt(), EST).expect("test step");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].closed_at, None);

    // 21 was 2.1: 14.1 mSv over the window, under 20: the alert awaits nothing any more.
    let mut fix = effective("01/02/2025", "28/02/2025", 2.1);
    fix.replaces = Some(mistyped);
    let correction = record(&fix);
    let alerts = s.registry.alerts(&pcr(), EST).expect("test step");
    assert_eq!(alerts.len(), 1, "no new alert: {alerts:?}");
    assert!(alerts[0].closed_at.is_some(), "{alerts:?}");
    assert_eq!(alerts[0].closed_by_dose, Some(correction));
    assert_eq!(alerts[0].acknowledged_at, None);
    let closed: Vec<(String, String)> = audit_rows(&s.env)
        .into_iter()
        .filter(|r| r.1 == "registry.alert.close")
        .map(|r| (r.0, r.3))
        .collect();
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0].0, "accessor:42005");
    assert!(
        closed[0]
            .1
            .contains(&format!("\"correction\":\"{correction}\"")),
        "{closed:?}"
    );
    // Nothing to acknowledge; a later crossing raises a new alert, the closed one no longer
    // standing in its way.
    assert!(!s
        .registry
        .acknowledge_alert(&mdt(), EST, alerts[0].id)
        .expect("test step"));
    record(&effective("01/03/2025", "31/03/2025", 9.0));
    assert_eq!(s.registry.alerts(&mdt(), EST).expect("test step").len(), 2);
}

#[test]
fn a_correction_still_above_the_limit_leaves_the_alert_open() {
    let s = setup();
    let record = |input: &DoseInput| {
        s.registry
            .record_dose(&mdt(), EST, &WorkerRef::Id(s.at_a), input)
            .expect("test step")
    };
    record(&effective("01/01/2025", "31/01/2025", 12.0));
    let first = record(&effective("01/02/2025", "28/02/2025", 21.0));
    let mut fix = effective("01/02/2025", "28/02/2025", 18.0);
    fix.replaces = Some(first);
    record(&fix);
    let alerts = s.registry.alerts(&mdt(), EST).expect("test step");
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].closed_at.as_deref(), alerts[0].closed_by_dose),
        (None, None)
    );
    assert!(!audit_rows(&s.env)
        .iter()
        .any(|r| r.1 == "registry.alert.close"));
}
