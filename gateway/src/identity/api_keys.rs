//! API keys for service accounts: `musubi apikey create|list|revoke`, checked on each request.
//!
//! A key is `musubi_<id>_<secret>`: the id finds the record, the secret is 256 random bits. Only
//! the secret's SHA-256 is stored (in `<data>/api-keys.json`), so the file does not hand out
//! keys. A plain hash is enough here, unlike for passwords: a slow, salted hash exists to make
//! guessing low-entropy secrets expensive, and there is nothing to guess in 256 random bits;
//! one fast hash per request keeps key checks cheap. The file is re-read when it changes, so a
//! key revoked with the CLI stops working on the running hub at its next request.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use aws_lc_rs::rand::SecureRandom;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musubi_ontology::identifiers::IdentifierSchemes;
use musubi_ontology::tier::Tier;
use musubi_schema::Principal;
use musubi_platform::fees::{Affiliation, UserClass};
use serde::{Deserialize, Serialize};

use super::Rejected;
use super::passport::dataset_accession;

/// Every API key starts so; it tells a key from a token at a glance (and to secret scanners).
pub const PREFIX: &str = "musubi_";

/// One stored key (never the key itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub tier: String,
    #[serde(default)]
    pub grants: BTreeSet<String>,
    /// Hex SHA-256 of the secret part.
    pub sha256: String,
    pub created: String,
    #[serde(default)]
    pub revoked: Option<String>,
    /// The organisation its use is metered to (fees), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// `academic`, `industry` or `public_sector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_class: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<ApiKey>,
}

/// What tells a changed key file: modification time and length (a revocation or a new key
/// always changes the length, even within one tick of a coarse file-system clock).
type FileStamp = Option<(SystemTime, u64)>;

/// The key file of a data folder.
pub struct ApiKeys {
    path: PathBuf,
    cache: Mutex<Option<(FileStamp, Vec<ApiKey>)>>,
}

/// An API key that cannot be created, listed or revoked: the option or the file, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ApiKeyError(pub String);

impl ApiKeys {
    pub fn new(data: &Path) -> ApiKeys {
        ApiKeys { path: data.join("api-keys.json"), cache: Mutex::new(None) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates a key; returns it (the only time it is shown) and its record.
    pub fn create(&self, name: &str, tier: &str, grants: &[String], schemes: &IdentifierSchemes) -> Result<(String, ApiKey), ApiKeyError> {
        self.create_for(name, tier, grants, None, None, schemes)
    }

    /// Creates a key whose use is metered to `organisation` as `user_class` (see
    /// `musubi_platform::fees`).
    pub fn create_for(
        &self,
        name: &str,
        tier: &str,
        grants: &[String],
        organisation: Option<&str>,
        user_class: Option<&str>,
        schemes: &IdentifierSchemes,
    ) -> Result<(String, ApiKey), ApiKeyError> {
        let created = || -> Result<(String, ApiKey), String> {
            let organisation = organisation.map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned);
            let user_class = match user_class {
                Some(c) => Some(UserClass::parse(c).ok_or_else(|| format!("--class {c:?}: use academic, industry or public_sector"))?),
                None => None,
            };
            if user_class.is_some() && organisation.is_none() {
                return Err("--class needs --org (the organisation the use is metered to)".to_owned());
            }
            let tier = parse_tier(tier)?;
            let grants = grants
                .iter()
                .map(|g| dataset_accession(schemes, g).ok_or_else(|| format!("--grant {g:?}: not a dataset accession or IRI the hub knows")))
                .collect::<Result<BTreeSet<_>, _>>()?;
            if name.trim().is_empty() {
                return Err("--name: give the service account a name".to_owned());
            }
            // Grants count only for a REGISTERED caller or above; CONTROLLED means "with grants".
            match tier {
                Tier::Public if !grants.is_empty() => return Err("--grant needs --tier REGISTERED or above: a PUBLIC caller reads no CONTROLLED field".to_owned()),
                Tier::Controlled if grants.is_empty() => return Err("--tier CONTROLLED needs at least one --grant (the datasets it may read)".to_owned()),
                _ => {}
            }
            let mut file = self.read_file()?;
            let rng = aws_lc_rs::rand::SystemRandom::new();
            let mut id_bytes = [0u8; 4];
            let id = loop {
                rng.fill(&mut id_bytes).map_err(|_| "no randomness for a key id".to_owned())?;
                let id = hex(&id_bytes);
                if !file.keys.iter().any(|k| k.id == id) {
                    break id;
                }
            };
            let mut secret = [0u8; 32];
            rng.fill(&mut secret).map_err(|_| "no randomness for a key".to_owned())?;
            let secret = URL_SAFE_NO_PAD.encode(secret);
            let record = ApiKey {
                id: id.clone(),
                name: name.to_owned(),
                tier: tier.name().to_owned(),
                grants,
                sha256: sha256_hex(&secret),
                created: musubi_ontology::now().to_string(),
                revoked: None,
                organisation,
                user_class: user_class.map(|c| c.name().to_owned()),
            };
            file.keys.push(record.clone());
            self.write_file(&file)?;
            Ok((format!("{PREFIX}{id}_{secret}"), record))
        };
        created().map_err(ApiKeyError)
    }

    pub fn list(&self) -> Result<Vec<ApiKey>, ApiKeyError> {
        Ok(self.read_file().map_err(ApiKeyError)?.keys)
    }

    /// Marks a key revoked (kept in the file, so the list shows when).
    pub fn revoke(&self, id: &str) -> Result<ApiKey, ApiKeyError> {
        self.revoked(id).map_err(ApiKeyError)
    }

    fn revoked(&self, id: &str) -> Result<ApiKey, String> {
        let mut file = self.read_file()?;
        let Some(key) = file.keys.iter_mut().find(|k| k.id == id) else {
            return Err(format!("no API key {id:?} in {}", self.path.display()));
        };
        if key.revoked.is_none() {
            key.revoked = Some(musubi_ontology::now().to_string());
        }
        let key = key.clone();
        self.write_file(&file)?;
        Ok(key)
    }

    /// The caller a presented key stands for.
    pub fn authenticate(&self, presented: &str) -> Result<Principal, Rejected> {
        self.authenticate_affiliated(presented).map(|(p, _)| p)
    }

    /// The caller a presented key stands for, and the organisation its use is metered to.
    pub fn authenticate_affiliated(&self, presented: &str) -> Result<(Principal, Option<Affiliation>), Rejected> {
        let bad = |why: &str| Rejected::new("invalid API key", why.to_owned());
        let rest = presented.strip_prefix(PREFIX).ok_or_else(|| bad("an API key starts with musubi_"))?;
        let (id, secret) = rest.split_once('_').ok_or_else(|| bad("an API key is musubi_<id>_<secret>"))?;
        let keys = self.current().map_err(|e| {
            tracing::error!(error = %e, "cannot read the API keys");
            bad("the hub cannot read its API keys")
        })?;
        // One answer whether the id is unknown or the secret wrong (and the secret hashed either
        // way): which key ids exist is not for a caller without one to learn.
        let presented = sha256_hex(secret);
        let key = keys.iter().find(|k| k.id == id);
        let matches = key.is_some_and(|k| aws_lc_rs::constant_time::verify_slices_are_equal(presented.as_bytes(), k.sha256.as_bytes()).is_ok());
        let Some(key) = key.filter(|_| matches) else {
            return Err(bad("the key is not valid"));
        };
        if let Some(when) = &key.revoked {
            return Err(Rejected::new("revoked API key", format!("key {id} was revoked at {when}")));
        }
        let tier = parse_tier(&key.tier).map_err(|e| bad(&e))?;
        let affiliation = key
            .organisation
            .as_ref()
            .map(|o| Affiliation { organisation: o.clone(), user_class: key.user_class.as_deref().and_then(UserClass::parse) });
        let principal = Principal {
            tier,
            grants: key.grants.iter().cloned().collect(),
            subject: Some(format!("apikey:{} ({})", key.id, key.name)),
            issuer: Some("api-key".to_owned()),
        };
        Ok((principal, affiliation))
    }

    /// The keys as the file holds them now (re-read when it changes).
    fn current(&self) -> Result<Vec<ApiKey>, String> {
        let modified: FileStamp = std::fs::metadata(&self.path).and_then(|m| Ok((m.modified()?, m.len()))).ok();
        let mut cache = self.cache.lock().expect("api key cache lock");
        if let Some((at, keys)) = cache.as_ref()
            && *at == modified
        {
            return Ok(keys.clone());
        }
        let keys = self.read_file()?.keys;
        *cache = Some((modified, keys.clone()));
        Ok(keys)
    }

    fn read_file(&self) -> Result<KeyFile, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeyFile::default()),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }

    /// Writes through a temporary file and a rename, so a crash leaves the old file or the new.
    fn write_file(&self, file: &KeyFile) -> Result<(), String> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(file).expect("key records serialise");
        std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        *self.cache.lock().expect("api key cache lock") = None;
        Ok(())
    }
}

fn parse_tier(name: &str) -> Result<Tier, String> {
    Tier::ALL
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("--tier {name:?}: use PUBLIC, REGISTERED, CONTROLLED or STEWARD"))
}

fn sha256_hex(secret: &str) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use musubi_ontology::vocab::Vocabulary;

    #[test]
    fn create_use_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let vocabulary = Vocabulary::builtin();
        let keys = ApiKeys::new(dir.path());
        let (key, record) = keys
            .create("pipeline", "registered", &["https://ddbj.nig.ac.jp/resource/jga-dataset/JGAD000001".to_owned()], vocabulary.identifier_schemes())
            .unwrap();
        assert!(key.starts_with("musubi_"));
        let stored = std::fs::read_to_string(keys.path()).unwrap();
        // The whole secret: musubi_<id>_<secret>, where the secret may itself hold '_' (base64url).
        let secret = key.strip_prefix(PREFIX).and_then(|rest| rest.split_once('_')).map(|(_, secret)| secret).unwrap();
        assert!(!stored.contains(secret), "the secret itself is not stored");
        let p = keys.authenticate(&key).unwrap();
        assert_eq!((p.tier, p.grants.iter().cloned().collect::<Vec<_>>()), (Tier::Registered, vec!["JGAD000001".to_owned()]));
        assert_eq!(keys.authenticate(&format!("{key}x")).unwrap_err().reason, "invalid API key");
        keys.revoke(&record.id).unwrap();
        assert_eq!(keys.authenticate(&key).unwrap_err().reason, "revoked API key");
        assert!(keys.create("x", "ADMIN", &[], vocabulary.identifier_schemes()).unwrap_err().0.contains("--tier"));
        assert!(keys.create("x", "REGISTERED", &["JGAS000001".to_owned()], vocabulary.identifier_schemes()).unwrap_err().0.contains("--grant"));
        assert!(keys.create("x", "PUBLIC", &["JGAD000001".to_owned()], vocabulary.identifier_schemes()).unwrap_err().0.contains("REGISTERED or above"));
        assert!(keys.create("x", "CONTROLLED", &[], vocabulary.identifier_schemes()).unwrap_err().0.contains("at least one --grant"));
    }
}
