//! Transmissions of results (issue 16): `POST /api/v1/transmissions` (the whole file, CSV or
//! JSON Lines, streamed to the service as it arrives) answered by the signed récépissé, and
//! `GET /api/v1/transmissions/{numero}/recepisse` for its sender to fetch it again.
//!
//! The récépissé comes back as `application/pkcs7-mime` (the CMS SignedData, DER), or, when
//! the request's `Accept` names `application/json`, as `{"numero", "recepisse"}` (base64 of the
//! same DER). Its number is in the `Siseri-Recepisse` header either way.

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::json;

use super::request::{declared_length, media_type};
use super::{fail, Answer, Fail};
use crate::directory::Holder;
use crate::web::caller::{service, Refusal};
use crate::web::{access_error, ask, cert_of, identify, logged_in, stream, unknown_certificate};
use crate::web::{ClientCert, RegistryState};
use crate::{
    Principal, RegistryError, SenderEstablishment, SignedReceipt, TransmissionFormat,
    TransmissionSender,
};

/// The sender of a request: who holds its certificate (a person must have opened a session
/// with their access code, as everywhere on the registry), and the SIRET of every
/// establishment they might send for.
async fn sender(
    state: &RegistryState,
    cert: &ClientCert,
    headers: &HeaderMap,
) -> Result<TransmissionSender, Fail> {
    let holder = identify(state, cert)
        .await
        .map_err(|e| Fail::from(Box::new(access_error(e))))?
        .ok_or_else(|| Fail::from(Box::new(unknown_certificate())))?;
    let (principal, candidates): (Principal, Vec<(i64, bool)>) = match holder {
        Holder::Person(person) => {
            let person = logged_in(state, cert, headers, person)?;
            let candidates = person
                .attachments
                .iter()
                .map(|a| (a.establishment, a.sends_dosimetry))
                .collect();
            (
                crate::web::caller::principal(&Holder::Person(person), None),
                candidates,
            )
        }
        Holder::DosimetryBody { name } => {
            let probe = Principal::dosimetry_body(name.clone(), []);
            let clients = service(state, move |r| r.body_clients(&probe)).await?;
            let candidates = clients.iter().map(|&id| (id, false)).collect();
            (Principal::dosimetry_body(name, clients), candidates)
        }
    };
    let ids: Vec<i64> = candidates.iter().map(|(id, _)| *id).collect();
    let sirets = ask(state, move |d| {
        ids.into_iter()
            .map(|id| Ok(d.establishment(id)?.and_then(|e| e.employer.siret)))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| Fail::from(Box::new(access_error(e))))?;
    let establishments = candidates
        .into_iter()
        .zip(sirets)
        .filter_map(|((id, sends), siret)| {
            let siret = siret?.chars().filter(|c| !c.is_whitespace()).collect();
            Some(SenderEstablishment {
                id,
                siret,
                sends_dosimetry: sends,
            })
        })
        .collect();
    Ok(TransmissionSender {
        principal,
        subject: cert.subject.clone(),
        serial: serial_hex(&cert.serial),
        establishments,
    })
}

/// A serial as OpenSSL prints it: upper-case hexadecimal, without the sign octet DER adds.
fn serial_hex(serial: &[u8]) -> String {
    let s = match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        s => s,
    };
    hex::encode_upper(s)
}

fn signer(state: &RegistryState) -> Result<std::sync::Arc<dyn crate::ReceiptSigner>, Fail> {
    state.receipts.clone().ok_or_else(|| {
        fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "recepisse_unavailable",
            "Les transmissions ne sont pas ouvertes sur ce serveur (pas de clé de récépissé).",
        )
    })
}

/// `POST /api/v1/transmissions`.
pub(super) async fn receive(
    axum::extract::State(state): axum::extract::State<RegistryState>,
    request: Request,
) -> Answer {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let cert = cert_of(parts.extensions.get::<ClientCert>())?;
    let format = match media_type(&headers).as_str() {
        "text/csv" | "application/csv" => TransmissionFormat::Csv,
        "application/json" | "application/x-ndjson" | "application/jsonl" => {
            TransmissionFormat::Json
        }
        _ => {
            return Err(fail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Un fichier de résultats s'envoie en CSV (Content-Type: text/csv) ou en JSON Lines (Content-Type: application/json).",
            ))
        }
    };
    if declared_length(&headers).is_some_and(|n| n > stream::IMPORT_MAX_BYTES) {
        return Err(too_large());
    }
    let sender = sender(&state, &cert, &headers).await?;
    let signer = signer(&state)?;
    let reader = stream::reader(body.into_data_stream());
    let receipt = service(&state, move |r| {
        r.receive_transmission(&sender, format, reader, signer.as_ref())
    })
    .await
    .map_err(|refusal| match refusal {
        Refusal::Registry(RegistryError::ImportRead(e)) if stream::too_large(&e) => too_large(),
        other => Fail::from(other),
    })?;
    Ok(answer(&headers, receipt))
}

/// `GET /api/v1/transmissions/{numero}/recepisse`: its sender only; anyone else, or a number
/// that does not exist, `404`.
pub(super) async fn recepisse(
    axum::extract::State(state): axum::extract::State<RegistryState>,
    Path(number): Path<String>,
    request: Request,
) -> Answer {
    let (parts, _) = request.into_parts();
    let cert = cert_of(parts.extensions.get::<ClientCert>())?;
    let sender = sender(&state, &cert, &parts.headers).await?;
    let signer = signer(&state)?;
    if number.len() != 17 || !number.starts_with("RT-") {
        return Err(super::not_found());
    }
    let receipt = service(&state, move |r| {
        r.transmission_receipt(&sender, &number, signer.as_ref())
    })
    .await?;
    Ok(answer(&parts.headers, receipt))
}

fn too_large() -> Fail {
    fail(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "Fichier trop volumineux : 1 Go au plus par transmission.",
    )
}

/// The récépissé, as DER or JSON after the request's `Accept`.
fn answer(headers: &HeaderMap, receipt: SignedReceipt) -> Response {
    let json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let number = HeaderValue::from_str(&receipt.number).ok();
    let mut r = if json {
        Json(json!({
            "numero": receipt.number,
            "recepisse": base64::engine::general_purpose::STANDARD.encode(&receipt.der),
        }))
        .into_response()
    } else {
        let mut r = Response::new(Body::from(receipt.der));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/pkcs7-mime; smime-type=signed-data"),
        );
        r
    };
    *r.status_mut() = StatusCode::OK;
    if let Some(n) = number {
        r.headers_mut().insert("siseri-recepisse", n);
    }
    r
}

/// `GET /api/v1/establishments/{id}/transmissions/missing`: §3, the periods of the
/// establishment's workers with neither result nor *absence de résultat* 20 days after their
/// end (physician).
pub(super) async fn missing(caller: super::Caller) -> Answer {
    let id = caller.establishment;
    let found = caller.ask(move |r, who| r.missing_results(who, id)).await?;
    Ok(Json(json!({"establishment": id, "missing": found})).into_response())
}
