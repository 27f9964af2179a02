//! `wasi:http/outgoing-handler`: wasmtime-wasi-http's own `handle`, which then frees the
//! `request-options` the guest handed over.
//!
//! `handle` takes the options as an owned handle, so they are the host's to drop. The
//! implementation in wasmtime-wasi-http 48 only reads them and leaves them in the call's
//! resource table: harmless for an instance dropped after one call, but an instance kept warm
//! would carry one more entry per request (and, since only an instance with an empty table is
//! kept, a guest that sets options would never be kept at all).

use wasmtime::component::{Linker, Resource};
use wasmtime::StoreContextMut;
use wasmtime_wasi_http::p2::bindings::http::{outgoing_handler, types};
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{RequestOptions, WasiHttp, WasiHttpView};

/// The `wasi:http` version wasmtime-wasi-http implements; guests importing an older 0.2
/// version link to it too.
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

/// What `handle` answers the guest.
type Answer = (Result<Resource<HostFutureIncomingResponse>, types::ErrorCode>,);

/// Adds `wasi:http/types` (wasmtime-wasi-http's) and `wasi:http/outgoing-handler` (its
/// `handle`, then the options freed) for any store data with a `wasi:http` view.
pub fn add_to_linker<T: WasiHttpView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let options = wasmtime_wasi_http::p2::bindings::LinkOptions::default();
    types::add_to_linker::<_, WasiHttp>(linker, &options.into(), T::http)?;
    linker
        .instance(OUTGOING_HANDLER)?
        .func_wrap("handle", handle::<T>)
}

fn handle<T: WasiHttpView>(
    mut cx: StoreContextMut<'_, T>,
    (request, options): (
        Resource<HostOutgoingRequest>,
        Option<Resource<RequestOptions>>,
    ),
) -> wasmtime::Result<Answer> {
    let owned = options.as_ref().map(Resource::rep);
    let mut view = cx.data_mut().http();
    let answer = outgoing_handler::Host::handle(&mut view, request, options);
    if let Some(rep) = owned {
        // Gone already only if it was never a live handle; `handle` has answered that itself.
        let _ = view.table.delete(Resource::<RequestOptions>::new_own(rep));
    }
    Ok((match answer {
        Ok(response) => Ok(response),
        Err(e) => Err(e.downcast()?),
    },))
}
