//! A test adapter that exports only the base world (`switchyard:adapter/lifecycle`) and
//! no service contract: the host must refuse to bind it to any contract.

use switchyard_sdk::base::Lifecycle;
use switchyard_sdk::types::Error;

/// Implements lifecycle only.
struct WrongContract;

impl Lifecycle for WrongContract {
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

switchyard_sdk::export_base!(WrongContract);
