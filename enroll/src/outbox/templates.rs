//! The French texts people receive, worded after the real SISERI e-mails of the seed. Subjects
//! never hold a secret; bodies do (codes, passwords), which is why the outbox never logs them.

use time::Date;

use super::Message;
use crate::{Email, MobileNumber};

/// What closes every e-mail.
const SIGNATURE: &str =
    "\n-- \nAC SISERI\nCe message est envoyé automatiquement : merci de ne pas y répondre.\n";

fn mail(to: &Email, display_name: &str, subject: String, body: String) -> Message {
    Message::Mail {
        to: to.as_str().to_owned(),
        to_name: Some(display_name.to_owned()).filter(|name| !name.trim().is_empty()),
        subject,
        body: format!("À l'attention de {display_name}.\n\n{body}{SIGNATURE}"),
    }
}

/// `jj/mm/aaaa`, as dates are written on the forms.
fn french_date(date: Date) -> String {
    store::date::french(date)
}

fn days(n: u32) -> String {
    if n > 1 {
        format!("{n} jours")
    } else {
        format!("{n} jour")
    }
}

/// The SMS that carries the code signing a protocol (PASS, last step).
pub fn signature_code_sms(to: &MobileNumber, code: &str, expires_minutes: u32) -> Message {
    Message::Sms {
        to: to.e164().to_owned(),
        text: format!(
            "SISERI : votre code de signature du protocole d'accès est {code}. \
             Il est valable {expires_minutes} minutes. Ne le communiquez à personne."
        ),
    }
}

/// How an operator withdraws their console certificate: the link, its code and the `.p12`
/// password, as people's withdrawal e-mail; the role is said so that a mistake shows.
pub fn operator_withdrawal_mail(
    to: &Email,
    display_name: &str,
    role: &str,
    withdrawal_url: &str,
    withdrawal_code: &str,
    p12_password: &str,
    valid_days: u32,
) -> Message {
    mail(
        to,
        display_name,
        "SISERI : retrait de votre certificat d'opérateur de la console".into(),
        format!(
            "Un certificat d'opérateur de la console SISERI (rôle : {role}) a été préparé pour \
             vous.\n\
             \n\
             1. Cliquez sur l'adresse : {withdrawal_url} puis envoyez le code de retrait \
             {withdrawal_code} ;\n\
             2. Téléchargez le certificat et importez-le dans votre navigateur ; le fichier \
             (.p12) est protégé par le mot de passe {p12_password} qui vous sera demandé à \
             l'importation.\n\
             \n\
             Attention, l'url de retrait n'est valide que {} et pour un seul téléchargement. \
             Si vous n'attendiez pas ce message, prévenez l'administrateur de SISERI.\n",
            days(valid_days)
        ),
    )
}

/// The first e-mail of the seed: how to withdraw the personal certificate.
/// `display_name` is written as in the seed, `DURAND Vincent`.
pub fn withdrawal_mail(
    to: &Email,
    display_name: &str,
    withdrawal_url: &str,
    withdrawal_code: &str,
    p12_password: &str,
    valid_days: u32,
) -> Message {
    mail(
        to,
        display_name,
        "SISERI : retrait de votre certificat numérique personnel".into(),
        format!(
            "Nous avons le plaisir de vous faire parvenir ce mail qui vous permet de retirer \
             votre certificat numérique personnel d'accès à SISERI.\n\
             \n\
             Le retrait s'effectue selon les indications ci-dessous (un guide détaillé est aussi \
             disponible sur la page de retrait) :\n\
             \n\
             1. Cliquez sur l'adresse : {withdrawal_url} puis envoyez le code de retrait \
             {withdrawal_code} ;\n\
             2. Téléchargez le certificat ;\n\
             3. Enregistrez le certificat sur votre bureau ou dans un dossier de votre choix ;\n\
             4. Cliquez sur le certificat (fichier .p12) qui est protégé par le mot de passe \
             {p12_password} qui vous sera demandé durant la procédure d'installation.\n\
             \n\
             Attention, l'url de retrait n'est valide que {} et pour un seul téléchargement.\n",
            days(valid_days)
        ),
    )
}

/// The second e-mail of the seed: the access code asked after the certificate at each login.
pub fn access_code_mail(to: &Email, display_name: &str, access_code: &str) -> Message {
    mail(
        to,
        display_name,
        "SISERI : votre mot de passe d'accès".into(),
        format!(
            "Nous avons le plaisir de vous faire parvenir votre mot de passe d'accès aux données \
             de SISERI. Cet accès nécessite au préalable que votre certificat numérique soit \
             installé sur le poste.\n\
             \n\
             Mot de passe SISERI : {access_code}\n\
             \n\
             Une fois le certificat numérique installé, vous pouvez vous connecter à votre compte \
             SISERI.\n"
        ),
    )
}

/// An operator rejected a signed protocol version.
pub fn protocol_rejected_mail(to: &Email, name: &str, number: &str, reason: &str) -> Message {
    mail(
        to,
        name,
        format!("SISERI : protocole d'accès n° {number} refusé"),
        format!(
            "Le protocole d'accès sécurisé à SISERI n° {number} que vous avez signé n'a pas pu \
             être validé, pour le motif suivant :\n\
             \n\
             {reason}\n\
             \n\
             Vous pouvez le corriger et le signer de nouveau sur le site SISERI, rubrique \
             « Accès Pass », en choisissant « Renouveler un protocole existant » avec le numéro \
             du protocole et son nom clé.\n"
        ),
    )
}

/// How an establishment named a person the registry already knows, for the notice they get.
#[derive(Debug, Clone, Copy)]
pub struct Naming<'a> {
    /// The employer's name.
    pub establishment: &'a str,
    /// Its SIRET, when the protocol gives one.
    pub siret: Option<&'a str>,
    /// The protocol's number.
    pub protocol_number: &'a str,
    /// The role, as it reads after « en tant que » (`Personne compétente en radioprotection`…).
    pub role_label: &'a str,
    /// The person already holds a certificate: nothing to install.
    pub holds_certificate: bool,
    /// The protocol gave another e-mail address than the one the registry knows.
    pub other_address_given: bool,
}

/// A person the registry already knows was named by an establishment's protocol: sent to the
/// address the registry knows, so that someone named by an establishment they do not know
/// hears of it, with what identifies the establishment.
pub fn attachment_notice_mail(to: &Email, display_name: &str, naming: &Naming<'_>) -> Message {
    let Naming {
        establishment,
        siret,
        protocol_number,
        role_label,
        holds_certificate,
        other_address_given,
    } = *naming;
    let mut body = format!(
        "Vous avez été désigné(e) en tant que {role_label} de l'établissement \
         « {establishment} » dans son protocole d'accès sécurisé à SISERI :\n\
         \n\
         - établissement : {establishment}\n\
         - SIRET : {}\n\
         - protocole d'accès n° {protocol_number}\n\
         \n",
        siret.unwrap_or("non indiqué")
    );
    body.push_str(if holds_certificate {
        "Vous disposez déjà d'un certificat numérique personnel : vous le conservez, ainsi que \
         votre mot de passe SISERI, et n'avez rien à installer. Cet établissement apparaîtra \
         parmi vos établissements à votre prochaine connexion à SISERI.\n"
    } else {
        "Vous allez recevoir à cette adresse un e-mail pour retirer votre certificat numérique \
         personnel.\n"
    });
    if other_address_given {
        body.push_str(
            "\nLe protocole indique pour vous une autre adresse électronique ; elle n'a pas été \
             retenue : vos messages SISERI continuent d'arriver à cette adresse-ci.\n",
        );
    }
    body.push_str(
        "\nSi vous ne connaissez pas cet établissement ou n'avez pas accepté cette désignation, \
         signalez-le sans attendre à SISERI en indiquant le numéro du protocole.\n",
    );
    mail(
        to,
        display_name,
        "SISERI : un nouvel établissement est rattaché à votre accès".into(),
        body,
    )
}

/// To the address an operator replaced: where SISERI's e-mails go from now on.
pub fn email_replaced_mail(
    to: &Email,
    display_name: &str,
    habilitation: u32,
    new_address: &Email,
) -> Message {
    mail(
        to,
        display_name,
        "SISERI : l'adresse électronique de votre accès a été changée".into(),
        format!(
            "L'adresse électronique de votre accès SISERI (N° habilitation SISERI \
             {habilitation}) a été remplacée par {} par un opérateur SISERI. Les e-mails de \
             retrait de certificat, les mots de passe et les avis vous seront désormais \
             envoyés à cette nouvelle adresse ; vous n'en recevrez plus à celle-ci.\n\
             \n\
             Si vous n'avez pas demandé ce changement, signalez-le sans attendre à SISERI.\n",
            new_address.as_str()
        ),
    )
}

/// To the address an operator set: it is now the one SISERI writes to.
pub fn email_set_mail(to: &Email, display_name: &str, habilitation: u32) -> Message {
    mail(
        to,
        display_name,
        "SISERI : nouvelle adresse électronique de votre accès".into(),
        format!(
            "Cette adresse électronique est désormais celle de votre accès SISERI (N° \
             habilitation SISERI {habilitation}) : les e-mails de retrait de certificat, les \
             mots de passe et les avis vous seront envoyés ici.\n\
             \n\
             Si vous n'êtes pas concerné(e) ou n'avez pas demandé ce changement, signalez-le \
             sans attendre à SISERI.\n"
        ),
    )
}

/// The personal certificate is about to expire.
pub fn expiry_notice_mail(
    to: &Email,
    display_name: &str,
    not_after_date: Date,
    days_left: u32,
) -> Message {
    mail(
        to,
        display_name,
        format!("SISERI : votre certificat expire dans {}", days(days_left)),
        format!(
            "Votre certificat numérique personnel d'accès à SISERI expire le {} (dans {}). \
             Passé cette date, il ne permettra plus de vous connecter à SISERI.\n\
             \n\
             Un nouveau certificat vous sera adressé par un mail de retrait semblable au premier. \
             Si vous ne l'avez pas reçu quelques jours avant l'expiration, rapprochez-vous du \
             représentant légal de votre employeur, qui peut renouveler le protocole d'accès.\n",
            french_date(not_after_date),
            days(days_left)
        ),
    )
}

/// The e-mail that tells a PCR or physician that a limit alert awaits them in the registry
/// (issue 15 §3): nothing of the worker nor of the dose, only that an alert awaits.
pub fn limit_alert_mail(to: &Email, display_name: &str) -> Message {
    mail(
        to,
        display_name,
        registry::ALERT_MAIL_SUBJECT.into(),
        registry::ALERT_MAIL_BODY.into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn durand() -> Email {
        Email::parse("v.durand@cabinet-durand.example").unwrap()
    }

    fn body(message: &Message) -> &str {
        match message {
            Message::Mail { body, .. } => body,
            Message::Sms { text, .. } => text,
        }
    }

    #[test]
    fn the_signature_code_sms_reads_like_the_product_says() {
        let mobile = MobileNumber::parse("07 12 12 32 41", false).unwrap();
        let sms = signature_code_sms(&mobile, "123456", 10);
        assert_eq!(sms.recipient(), "+33712123241");
        assert_eq!(
            body(&sms),
            "SISERI : votre code de signature du protocole d'accès est 123456. \
             Il est valable 10 minutes. Ne le communiquez à personne."
        );
        sms.check().unwrap();
    }

    #[test]
    fn the_withdrawal_mail_is_the_seeds_first_mail() {
        let mail = withdrawal_mail(
            &durand(),
            "DURAND Vincent",
            "https://siseri.example.fr/retrait/abc",
            "Q835FFRY1",
            "30Z4-A64J",
            60,
        );
        let text = body(&mail);
        for sentence in [
            "À l'attention de DURAND Vincent.",
            "Nous avons le plaisir de vous faire parvenir ce mail qui vous permet de retirer \
             votre certificat numérique personnel d'accès à SISERI.",
            "1. Cliquez sur l'adresse : https://siseri.example.fr/retrait/abc puis envoyez le \
             code de retrait Q835FFRY1",
            "2. Téléchargez le certificat ;",
            "3. Enregistrez le certificat sur votre bureau ou dans un dossier de votre choix ;",
            "4. Cliquez sur le certificat (fichier .p12) qui est protégé par le mot de passe \
             30Z4-A64J qui vous sera demandé durant la procédure d'installation.",
            "Attention, l'url de retrait n'est valide que 60 jours et pour un seul téléchargement.",
        ] {
            assert!(text.contains(sentence), "missing {sentence:?} in:\n{text}");
        }
        let subject = mail.subject().unwrap();
        assert!(!subject.contains("Q835FFRY1") && !subject.contains("30Z4"));
        mail.check().unwrap();
    }

    #[test]
    fn the_access_code_mail_is_the_seeds_second_mail() {
        let mail = access_code_mail(&durand(), "DURAND Vincent", "9865");
        let text = body(&mail);
        for sentence in [
            "À l'attention de DURAND Vincent.",
            "Nous avons le plaisir de vous faire parvenir votre mot de passe d'accès aux données \
             de SISERI. Cet accès nécessite au préalable que votre certificat numérique soit \
             installé sur le poste.",
            "Mot de passe SISERI : 9865\n",
            "Une fois le certificat numérique installé, vous pouvez vous connecter à votre \
             compte SISERI.",
        ] {
            assert!(text.contains(sentence), "missing {sentence:?} in:\n{text}");
        }
        assert!(!mail.subject().unwrap().contains("9865"));
        match &mail {
            Message::Mail { to_name, .. } => assert_eq!(to_name.as_deref(), Some("DURAND Vincent")),
            Message::Sms { .. } => unreachable!(),
        }
    }

    #[test]
    fn the_rejection_mail_gives_the_number_and_the_reason() {
        let mail = protocol_rejected_mail(
            &durand(),
            "DURAND Vincent",
            "P-2024-000123",
            "L'extrait K-bis est illisible.",
        );
        assert_eq!(
            mail.subject(),
            Some("SISERI : protocole d'accès n° P-2024-000123 refusé")
        );
        let text = body(&mail);
        assert!(text.contains("n° P-2024-000123 que vous avez signé n'a pas pu être validé"));
        assert!(text.contains("\n\nL'extrait K-bis est illisible.\n\n"));
        assert!(text.contains("Renouveler un protocole existant"));
        mail.check().unwrap();
    }

    fn naming<'a>(holds_certificate: bool, other_address_given: bool) -> Naming<'a> {
        Naming {
            establishment: "Clinique des Vosges",
            siret: Some("73282932000074"),
            protocol_number: "2026-000002",
            role_label: "personne compétente en radioprotection (PCR)",
            holds_certificate,
            other_address_given,
        }
    }

    #[test]
    fn the_attachment_notice_names_the_establishment_its_siret_and_the_protocol() {
        let mail = attachment_notice_mail(&durand(), "MARTIN Claire", &naming(true, false));
        let text = body(&mail);
        assert!(text.starts_with("À l'attention de MARTIN Claire."));
        assert!(text.contains(
            "en tant que personne compétente en radioprotection (PCR) de l'établissement \
             « Clinique des Vosges »"
        ));
        for line in [
            "- établissement : Clinique des Vosges\n",
            "- SIRET : 73282932000074\n",
            "- protocole d'accès n° 2026-000002\n",
            "Si vous ne connaissez pas cet établissement",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        assert!(text.contains("n'avez rien à installer"));
        assert!(!text.contains("autre adresse"));
        mail.check().unwrap();
    }

    #[test]
    fn the_attachment_notice_says_when_another_address_was_given_and_not_kept() {
        let mail = attachment_notice_mail(&durand(), "MARTIN Claire", &naming(false, true));
        let text = body(&mail);
        assert!(text.contains("une autre adresse électronique ; elle n'a pas été retenue"));
        assert!(text.contains("e-mail pour retirer votre certificat"));
        assert!(!text.contains("n'avez rien à installer"));
    }

    #[test]
    fn both_addresses_hear_of_an_address_change() {
        let new = Email::parse("claire.martin@nouvelle.example").unwrap();
        let old = email_replaced_mail(&durand(), "MARTIN Claire", 42001, &new);
        assert!(body(&old).contains("42001) a été remplacée par claire.martin@nouvelle.example"));
        assert!(body(&old).contains("Si vous n'avez pas demandé ce changement"));
        old.check().unwrap();
        let set = email_set_mail(&new, "MARTIN Claire", 42001);
        assert_eq!(set.recipient(), "claire.martin@nouvelle.example");
        assert!(body(&set).contains("désormais celle de votre accès SISERI"));
        set.check().unwrap();
    }

    #[test]
    fn the_expiry_notice_gives_the_date_and_the_days_left() {
        let date = Date::from_calendar_date(2027, time::Month::March, 5).unwrap();
        let mail = expiry_notice_mail(&durand(), "DURAND Vincent", date, 30);
        assert_eq!(
            mail.subject(),
            Some("SISERI : votre certificat expire dans 30 jours")
        );
        assert!(body(&mail).contains("expire le 05/03/2027 (dans 30 jours)"));
        let last_day = expiry_notice_mail(&durand(), "DURAND Vincent", date, 1);
        assert_eq!(
            last_day.subject(),
            Some("SISERI : votre certificat expire dans 1 jour")
        );
    }

    #[test]
    fn every_mail_is_signed_by_the_ca() {
        let mail = access_code_mail(&durand(), "DURAND Vincent", "9865");
        assert!(body(&mail).ends_with(
            "\n-- \nAC SISERI\nCe message est envoyé automatiquement : merci de ne pas y répondre.\n"
        ));
    }
}
