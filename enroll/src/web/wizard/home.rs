//! Seed section 1 a: the home page, what SISERI is and the ways in.

use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::Page;

/// `GET /`: what SISERI is, and the ways in.
pub(super) async fn home() -> Response {
    Page::new(
        "Accueil",
        html! {
            h1 { "SISERI" }
            p.lead {
                "Le système SISERI a été mis en place dans un but de centralisation, consolidation et conservation "
                "de l'ensemble des résultats des mesures individuelles de l'exposition des travailleurs. "
                "Ces données sont restituées sous certaines conditions, en accès direct par Internet, aux médecins "
                "du travail et personnes compétentes en radioprotection, afin d'optimiser la surveillance médicale "
                "et la radioprotection des travailleurs."
            }
            ol.flow aria-label="Les missions de SISERI" {
                li { "Centraliser" } li { "Vérifier / Consolider" } li { "Conserver" } li { "Restituer" }
            }
            div.cards {
                section.card {
                    h2 { "Accès PASS" }
                    p {
                        "Employeurs : créez ou renouvelez le protocole d'accès sécurisé à SISERI. Il désigne vos "
                        "correspondants SISERI, vos médecins du travail et vos personnes compétentes en "
                        "radioprotection, et se signe avec un code reçu par SMS."
                    }
                    p { a.btn.btn-primary href="/pass/" { "Accès PASS" } }
                }
                section.card {
                    h2 { "Retrait de certificat" }
                    p {
                        "Après la validation du protocole, chaque personne désignée reçoit deux courriels : "
                        "l'un avec l'adresse de retrait de son certificat électronique, le code de retrait et le mot "
                        "de passe du fichier .p12 ; l'autre avec son code d'accès confidentiel."
                    }
                    p {
                        "L'adresse de retrait n'est valable que 60 jours et pour un seul téléchargement : "
                        "suivez le lien reçu par courriel."
                    }
                    p { a href="/pki/ac-siseri.pem" { "Certificat de l'autorité AC SISERI" } }
                }
            }
        },
    )
    .into_response()
}
