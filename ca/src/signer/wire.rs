//! The signer's wire protocol, version 1: what the web-facing process may ask of the process
//! that holds AC SISERI's key, and nothing more.
//!
//! Written by hand rather than with a serialisation crate: five requests of one or three
//! fields each, a format that must stay narrow and versioned, and to-be-signed blobs of up to
//! tens of megabytes (a full CRL) that a text encoding would inflate by a third.
//!
//! Every frame is a big-endian `u32` length followed by that many bytes. A request's bytes are
//! `[VERSION, op]` then its fields; a field of bytes is a `u32` length and the bytes, a number
//! a `u64`. An answer's bytes are `[VERSION, status]` then one field of bytes: the signature
//! (status 0), or a French sentence saying why not (1: refused by a check, 2: failure).

use std::io::{self, Read, Write};

/// The protocol version both sides speak; any other is refused.
pub const VERSION: u8 = 1;

/// The largest frame either side reads: a full CRL of a few million entries.
pub const MAX_FRAME: usize = 256 * 1024 * 1024;

/// What the signer is asked.
#[derive(Clone, PartialEq, Eq)]
pub enum Request {
    /// Are you there, and which CA are you? Answered with the SHA-256 of the CA certificate.
    Hello,
    /// Sign this TBSCertificate, recorded unsigned under this serial.
    Certificate {
        /// The serial number's bytes (DER INTEGER contents).
        serial: Vec<u8>,
        /// The TBSCertificate, DER.
        tbs: Vec<u8>,
    },
    /// Sign this TBSCertList, with this many entries, for this shard's URL (or complete).
    Crl {
        /// How many revoked certificates it lists.
        entries: u64,
        /// The Issuing Distribution Point's URL of a shard's CRL; `None`: the full CRL.
        idp: Option<String>,
        /// The TBSCertList, DER.
        tbs: Vec<u8>,
    },
    /// Sign this OCSP ResponseData.
    Ocsp {
        /// The ResponseData, DER.
        tbs: Vec<u8>,
    },
    /// Sign this récépissé with the receipt key (answered with the CMS SignedData, DER).
    Receipt {
        /// The récépissé's canonical JSON ([`Recepisse`](crate::Recepisse)).
        document: Vec<u8>,
    },
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hello => f.write_str("Hello"),
            Self::Certificate { serial, tbs } => f
                .debug_struct("Certificate")
                .field("serial", &hex::encode(serial))
                .field("tbs_len", &tbs.len())
                .finish(),
            Self::Crl { entries, idp, tbs } => f
                .debug_struct("Crl")
                .field("entries", entries)
                .field("idp", idp)
                .field("tbs_len", &tbs.len())
                .finish(),
            Self::Ocsp { tbs } => f.debug_struct("Ocsp").field("tbs_len", &tbs.len()).finish(),
            Self::Receipt { document } => f
                .debug_struct("Receipt")
                .field("document_len", &document.len())
                .finish(),
        }
    }
}

/// The signer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The signature (ECDSA, DER), or for `Hello` the CA certificate's SHA-256.
    Signed(Vec<u8>),
    /// A check refused the request; nothing was signed.
    Refused(String),
    /// The signer could not do it (its database, its key); nothing was signed.
    Failed(String),
}

const OP_HELLO: u8 = 0;
const OP_CERTIFICATE: u8 = 1;
const OP_CRL: u8 = 2;
const OP_OCSP: u8 = 3;
const OP_RECEIPT: u8 = 4;

impl Request {
    /// The request's frame payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        match self {
            Self::Hello => out.push(OP_HELLO),
            Self::Certificate { serial, tbs } => {
                out.push(OP_CERTIFICATE);
                put_bytes(&mut out, serial);
                put_bytes(&mut out, tbs);
            }
            Self::Crl { entries, idp, tbs } => {
                out.push(OP_CRL);
                out.extend_from_slice(&entries.to_be_bytes());
                put_bytes(&mut out, idp.as_deref().unwrap_or("").as_bytes());
                put_bytes(&mut out, tbs);
            }
            Self::Ocsp { tbs } => {
                out.push(OP_OCSP);
                put_bytes(&mut out, tbs);
            }
            Self::Receipt { document } => {
                out.push(OP_RECEIPT);
                put_bytes(&mut out, document);
            }
        }
        out
    }

    /// Parses a request's payload; `Err` says, in French, what is wrong with it.
    pub fn decode(payload: &[u8]) -> Result<Self, String> {
        let mut r = Reader(payload);
        let version = r.u8()?;
        if version != VERSION {
            return Err(format!(
                "version de protocole {version} inconnue (attendue : {VERSION})"
            ));
        }
        let request = match r.u8()? {
            OP_HELLO => Self::Hello,
            OP_CERTIFICATE => Self::Certificate {
                serial: r.bytes()?.to_vec(),
                tbs: r.bytes()?.to_vec(),
            },
            OP_CRL => {
                let entries = r.u64()?;
                let idp = r.bytes()?;
                let idp = if idp.is_empty() {
                    None
                } else {
                    Some(
                        std::str::from_utf8(idp)
                            .map_err(|_| "URL d'IDP non UTF-8".to_owned())?
                            .to_owned(),
                    )
                };
                Self::Crl {
                    entries,
                    idp,
                    tbs: r.bytes()?.to_vec(),
                }
            }
            OP_OCSP => Self::Ocsp {
                tbs: r.bytes()?.to_vec(),
            },
            OP_RECEIPT => Self::Receipt {
                document: r.bytes()?.to_vec(),
            },
            op => return Err(format!("opération {op} inconnue")),
        };
        r.end()?;
        Ok(request)
    }
}

impl Answer {
    /// The answer's frame payload.
    pub fn encode(&self) -> Vec<u8> {
        let (status, body) = match self {
            Self::Signed(b) => (0, b.as_slice()),
            Self::Refused(m) => (1, m.as_bytes()),
            Self::Failed(m) => (2, m.as_bytes()),
        };
        let mut out = vec![VERSION, status];
        put_bytes(&mut out, body);
        out
    }

    /// Parses an answer's payload.
    pub fn decode(payload: &[u8]) -> Result<Self, String> {
        let mut r = Reader(payload);
        if r.u8()? != VERSION {
            return Err("version de protocole inattendue dans la réponse".into());
        }
        let status = r.u8()?;
        let body = r.bytes()?.to_vec();
        r.end()?;
        let text = || String::from_utf8_lossy(&body).into_owned();
        match status {
            0 => Ok(Self::Signed(body.clone())),
            1 => Ok(Self::Refused(text())),
            2 => Ok(Self::Failed(text())),
            s => Err(format!("statut de réponse {s} inconnu")),
        }
    }
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|l| *l as usize <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "trame trop grande"))?;
    w.write_all(&len.to_be_bytes())?;
    w.write_all(payload)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of stream (before a frame's first byte).
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut len[1..])?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "trame annoncée trop grande",
        ));
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(Some(payload))
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Frames are capped far below 4 GiB, so a field's length always fits.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("message tronqué".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes(
            b.try_into().map_err(|_| "message tronqué")?,
        ))
    }
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let b = self.take(4)?;
        let len = u32::from_be_bytes(b.try_into().map_err(|_| "message tronqué")?);
        self.take(len as usize)
    }
    fn end(&self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err("octets en trop après le message".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_and_answer_decodes_to_itself() {
        let requests = [
            Request::Hello,
            Request::Certificate {
                serial: vec![1, 2, 3],
                tbs: vec![0x30, 0],
            },
            Request::Crl {
                entries: 7,
                idp: Some("http://x/pki/crl/3.crl".into()),
                tbs: vec![9; 300],
            },
            Request::Crl {
                entries: 0,
                idp: None,
                tbs: vec![],
            },
            Request::Ocsp { tbs: vec![1] },
            Request::Receipt {
                document: b"{}".to_vec(),
            },
        ];
        for r in requests {
            assert_eq!(Request::decode(&r.encode()).unwrap(), r);
        }
        for a in [
            Answer::Signed(vec![1, 2]),
            Answer::Refused("non".into()),
            Answer::Failed("panne".into()),
        ] {
            assert_eq!(Answer::decode(&a.encode()).unwrap(), a);
        }
    }

    #[test]
    fn the_first_four_requests_keep_their_bytes_and_the_receipt_is_operation_four() {
        // Old askers and old signers speak the same frames: nothing moved for them.
        assert_eq!(Request::Hello.encode(), [VERSION, 0]);
        assert_eq!(
            Request::Ocsp { tbs: vec![7] }.encode(),
            [VERSION, 3, 0, 0, 0, 1, 7]
        );
        assert_eq!(
            Request::Receipt {
                document: b"{}".to_vec()
            }
            .encode(),
            [VERSION, 4, 0, 0, 0, 2, b'{', b'}']
        );
    }

    #[test]
    fn truncated_trailing_or_foreign_messages_are_refused() {
        let good = Request::Ocsp { tbs: vec![1, 2, 3] }.encode();
        assert!(Request::decode(&good[..good.len() - 1]).is_err());
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(Request::decode(&trailing).is_err());
        let mut other_version = good.clone();
        other_version[0] = 2;
        assert!(Request::decode(&other_version)
            .unwrap_err()
            .contains("version"));
        assert!(Request::decode(&[VERSION, 99])
            .unwrap_err()
            .contains("opération"));
        // A field announcing more than the message holds.
        assert!(Request::decode(&[VERSION, 3, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn frames_round_trip_and_oversized_ones_are_refused() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"abc").unwrap();
        write_frame(&mut buf, b"").unwrap();
        let mut r = buf.as_slice();
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"abc");
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"");
        assert!(read_frame(&mut r).unwrap().is_none());
        let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
        assert!(read_frame(&mut huge.as_slice()).is_err());
    }
}
