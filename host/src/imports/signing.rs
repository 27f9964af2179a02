//! `switchyard:adapter/signing`: signed server URLs for the call's tenant and service, made
//! with the host-held key (the adapter never sees it).

use wasmtime::component::{HasData, Linker};

use crate::bindings::base::switchyard::types::types::{Error, Timestamp};
use crate::bindings::signing::switchyard::adapter::signing::{self, Host, SignedUrl};
use crate::contract::invalid;
use crate::identity::CallIdentity;
use crate::signing::{unix_now, Signer, MAX_EXPIRY_S};

/// What signing needs: the host's signer and who is calling (the URL names tenant and
/// service).
pub struct SigningView<'a> {
    /// The host's signer.
    pub signer: &'a Signer,
    /// Who is calling.
    pub who: &'a CallIdentity,
}

/// The [`HasData`] marker linking [`SigningView`].
pub struct Signing;

impl HasData for Signing {
    type Data<'a> = SigningView<'a>;
}

/// Links `switchyard:adapter/signing`, reached through `view`.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> SigningView<'_>,
) -> wasmtime::Result<()> {
    signing::add_to_linker::<T, Signing>(linker, view)
}

impl Host for SigningView<'_> {
    fn sign_url(
        &mut self,
        method: String,
        resource: String,
        expires_in_s: u32,
    ) -> Result<SignedUrl, Error> {
        let bad = |m: String| Err(invalid(m));
        if method != "GET" && method != "PUT" {
            return bad(format!("method must be GET or PUT, not {method:?}"));
        }
        if expires_in_s == 0 || expires_in_s > MAX_EXPIRY_S {
            return bad(format!(
                "expires-in-s must be 1 to {MAX_EXPIRY_S} (7 days), not {expires_in_s}"
            ));
        }
        if resource.is_empty() || resource.len() > 2048 {
            return bad("resource must be 1 to 2048 bytes".into());
        }
        let expires = unix_now() + u64::from(expires_in_s);
        let url = self.signer.sign(
            &self.who.tenant,
            &self.who.service,
            &method,
            &resource,
            expires,
        );
        Ok(SignedUrl {
            url,
            expires_at: Timestamp {
                seconds: expires,
                nanoseconds: 0,
            },
        })
    }
}
