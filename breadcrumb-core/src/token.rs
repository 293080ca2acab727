//! Embed tokens: HS256 JWTs, the algorithm pinned on verification, with issuer, audience,
//! expiry and not-before all checked.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::crypto::SecretKey;
use crate::error::{Error, Result};

pub const ISSUER: &str = "breadcrumb";
pub const AUDIENCE: &str = "breadcrumb-embed";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmbedClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub partner: String,
    pub customer: String,
    pub space: Option<String>,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime: Duration,
}

impl TokenService {
    pub fn new(secret: &SecretKey, lifetime: Duration) -> Result<Self> {
        let key = secret.derive("breadcrumb/embed-jwt/v1");
        Ok(TokenService {
            encoding: EncodingKey::from_secret(&key).map_err(Error::internal)?,
            decoding: DecodingKey::from_secret(&key).map_err(Error::internal)?,
            lifetime,
        })
    }

    pub fn issue(
        &self,
        partner: &str,
        customer: &str,
        space: Option<&str>,
        user: &str,
    ) -> Result<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let exp = now + self.lifetime;
        let claims = EmbedClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user.into(),
            partner: partner.into(),
            customer: customer.into(),
            space: space.map(str::to_string),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: exp.timestamp(),
            jti: crate::ids::new_id("jti"),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(Error::internal)?;
        Ok((token, exp))
    }

    pub fn verify(&self, token: &str) -> Result<EmbedClaims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.algorithms = vec![Algorithm::HS256];
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.validate_nbf = true;
        v.leeway = 30;
        v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        decode::<EmbedClaims>(token, &self.decoding, &v)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Error::TokenExpired,
                _ => Error::Unauthorized,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(secret: &str, lifetime: Duration) -> TokenService {
        TokenService::new(&SecretKey::from_config(secret).unwrap(), lifetime).unwrap()
    }

    #[test]
    fn a_token_verifies_only_under_its_key_and_until_it_expires() {
        let s = service(&"s".repeat(32), Duration::hours(1));
        let (t, _) = s
            .issue("partner_1", "cust_1", Some("space_1"), "user_1")
            .unwrap();
        let c = s.verify(&t).unwrap();
        assert_eq!(
            (c.partner.as_str(), c.customer.as_str(), c.space.as_deref()),
            ("partner_1", "cust_1", Some("space_1"))
        );
        assert!(matches!(
            service(&"x".repeat(32), Duration::hours(1)).verify(&t),
            Err(Error::Unauthorized)
        ));
        let expired = service(&"s".repeat(32), Duration::seconds(-120));
        let (t, _) = expired.issue("p", "c", None, "u").unwrap();
        assert!(matches!(s.verify(&t), Err(Error::TokenExpired)));
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let s = service(&"s".repeat(32), Duration::hours(1));
        // {"alg":"none"} with valid-looking claims
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1IiwiZXhwIjo0MTAyNDQ0ODAwfQ.";
        assert!(matches!(s.verify(none), Err(Error::Unauthorized)));
    }
}
