//! The providers' mocks the quickstart's cloud tenant talks to, on fixed loopback ports, and
//! the environment the configuration file reads their URLs and keys from.
//!
//! | provider | mock |
//! |---|---|
//! | PostHog | 127.0.0.1:8099 (`QUICKSTART_POSTHOG_ADDR` moves it) |
//! | Twilio | 127.0.0.1:8101 |
//! | SendGrid | 127.0.0.1:8102 |
//! | Stripe | 127.0.0.1:8103 |
//! | Supabase | 127.0.0.1:8104 |
//! | Algolia | 127.0.0.1:8105 (the read host) and 8106 (the write host) |

use std::net::SocketAddr;

use anyhow::Context;
use switchyard_tests::mock::algolia::{self, ApiKey, MockAlgolia, MockAlgoliaOptions};
use switchyard_tests::mock::posthog::{MockPostHog, MockPostHogOptions};
use switchyard_tests::mock::sendgrid::{MockSendGrid, MockSendGridOptions};
use switchyard_tests::mock::stripe::{MockStripe, MockStripeOptions};
use switchyard_tests::mock::supabase::{MockSupabase, MockSupabaseOptions};
use switchyard_tests::mock::twilio::{self, MockTwilio, MockTwilioOptions};

const POSTHOG_KEY: &str = "phc_quickstart_demo";
const SENDGRID_KEY: &str = "SG.quickstart_demo";
const STRIPE_KEY: &str = "sk_test_quickstart_demo";
const SUPABASE_KEY: &str = "supabase_quickstart_service_key";
/// globex's Algolia key: Algolia (the mock) lets it reach only indexes named `globex_*`.
const ALGOLIA_KEY: &str = "algolia_quickstart_globex_key";

/// Where each mock listens.
pub struct Ports {
    pub posthog: SocketAddr,
    pub twilio: SocketAddr,
    pub sendgrid: SocketAddr,
    pub stripe: SocketAddr,
    pub supabase: SocketAddr,
    /// The first of Algolia's two hosts (read; the next port is the write host).
    pub algolia: SocketAddr,
}

impl Ports {
    /// The fixed ports, PostHog's moved by `QUICKSTART_POSTHOG_ADDR`.
    pub fn from_env() -> anyhow::Result<Ports> {
        let posthog = std::env::var("QUICKSTART_POSTHOG_ADDR")
            .unwrap_or_else(|_| "127.0.0.1:8099".into())
            .parse()
            .context("QUICKSTART_POSTHOG_ADDR")?;
        let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        Ok(Ports {
            posthog,
            twilio: at(8101),
            sendgrid: at(8102),
            stripe: at(8103),
            supabase: at(8104),
            algolia: at(8105),
        })
    }

    /// Sets the variables `switchyard.toml` reads: each provider's URL and key, as a real
    /// deployment's environment would hold them. Call before any thread starts.
    pub fn export(&self) {
        let url = |addr: &SocketAddr| format!("http://{addr}");
        let algolia_write = SocketAddr::new(self.algolia.ip(), self.algolia.port() + 1);
        for (name, value) in [
            ("POSTHOG_URL", url(&self.posthog)),
            ("POSTHOG_API_KEY", POSTHOG_KEY.into()),
            ("TWILIO_URL", url(&self.twilio)),
            ("TWILIO_ACCOUNT_SID", twilio::ACCOUNT_SID.into()),
            ("TWILIO_AUTH_TOKEN", twilio::AUTH_TOKEN.into()),
            (
                "TWILIO_MESSAGING_SERVICE_SID",
                twilio::MESSAGING_SERVICE_SID.into(),
            ),
            ("SENDGRID_URL", url(&self.sendgrid)),
            ("SENDGRID_API_KEY", SENDGRID_KEY.into()),
            ("STRIPE_URL", url(&self.stripe)),
            ("STRIPE_SECRET_KEY", STRIPE_KEY.into()),
            ("SUPABASE_URL", url(&self.supabase)),
            ("SUPABASE_SERVICE_KEY", SUPABASE_KEY.into()),
            ("ALGOLIA_APP_ID", algolia::APP_ID.into()),
            ("ALGOLIA_API_KEY", ALGOLIA_KEY.into()),
            ("ALGOLIA_READ_URL", url(&self.algolia)),
            ("ALGOLIA_WRITE_URL", url(&algolia_write)),
        ] {
            std::env::set_var(name, value);
        }
    }
}

/// The running mocks (stopped when dropped).
pub struct Mocks {
    pub posthog: MockPostHog,
    pub twilio: MockTwilio,
    pub sendgrid: MockSendGrid,
    pub stripe: MockStripe,
    pub supabase: MockSupabase,
    pub algolia: MockAlgolia,
}

impl Mocks {
    /// Starts every mock on its port; an error names the one that could not bind.
    pub async fn start(ports: &Ports) -> anyhow::Result<Mocks> {
        let posthog =
            MockPostHog::try_start_with(MockPostHogOptions::new(POSTHOG_KEY).bind(ports.posthog))
                .await
                .with_context(|| format!("starting the mock PostHog on {}", ports.posthog))?;
        let twilio = MockTwilio::try_start_with(MockTwilioOptions {
            bind: ports.twilio,
            ..MockTwilioOptions::default()
        })
        .await
        .with_context(|| format!("starting the mock Twilio on {}", ports.twilio))?;
        let sendgrid = MockSendGrid::try_start_with(
            MockSendGridOptions::new(SENDGRID_KEY).bind(ports.sendgrid),
        )
        .await
        .with_context(|| format!("starting the mock SendGrid on {}", ports.sendgrid))?;
        let stripe = MockStripe::try_start_with(MockStripeOptions {
            bind: ports.stripe,
            ..MockStripeOptions::new(STRIPE_KEY)
        })
        .await
        .with_context(|| format!("starting the mock Stripe on {}", ports.stripe))?;
        let supabase = MockSupabase::try_start_with(MockSupabaseOptions {
            bind: ports.supabase,
            ..MockSupabaseOptions::new(SUPABASE_KEY)
        })
        .await
        .with_context(|| format!("starting the mock Supabase on {}", ports.supabase))?;
        let algolia = MockAlgolia::try_start_with(MockAlgoliaOptions {
            keys: vec![
                ApiKey::new(algolia::ADMIN_KEY, &[]),
                ApiKey::new(ALGOLIA_KEY, &["globex_*"]),
            ],
            hosts: 2,
            first_port: Some(ports.algolia),
            ..MockAlgoliaOptions::default()
        })
        .await
        .with_context(|| {
            format!(
                "starting the mock Algolia on {} and the next port",
                ports.algolia
            )
        })?;
        Ok(Mocks {
            posthog,
            twilio,
            sendgrid,
            stripe,
            supabase,
            algolia,
        })
    }
}
