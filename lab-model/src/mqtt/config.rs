//! The mapping configuration: where topics go, what payloads look like, what of a
//! patient leaves the site.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use std::sync::OnceLock;

use super::payload::PayloadSizes;
use super::privacy::{PrivacyProfile, PseudonymKey, Tokenizer};
use super::topic::{
    DEFAULT_GATEWAY_TOPIC_TEMPLATE, DEFAULT_TOPIC_TEMPLATE, Placeholder, Slug, TemplateError,
    TopicError, TopicName, TopicTemplate,
};
use super::{EVENT_KINDS, kind_index};
use crate::{EventKind, Instrument, Text};

/// The payload encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadFormat {
    /// JSON (`application/json`, Payload Format Indicator 1). Readable everywhere,
    /// and what broker rule engines understand.
    #[default]
    Json,
    /// CBOR (RFC 8949, `application/cbor`, Payload Format Indicator 0): the same
    /// structure, smaller and faster to write.
    Cbor,
}

/// Routes one instrument, recognised by the id it sends, to a topic slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentRoute {
    /// The instrument's local id, name or serial number as the instrument sends it
    /// (compared exactly).
    pub id: String,
    /// Its topic level.
    pub slug: Slug,
    /// Its area, when not the configuration's.
    pub area: Option<Slug>,
}

/// Why a configuration was refused. `field` is a path into the configuration such as
/// `pseudonymization.key_hex` or `instruments[2].slug`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mapping configuration: `{field}`: {reason}")]
pub struct ConfigError {
    /// The field at fault (empty for a syntax error in the whole document).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    fn new(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self {
            field: field.into(),
            reason: reason.to_string(),
        }
    }
}

/// A validated mapping configuration.
///
/// Build it in code with [`MappingConfig::new`] and the `with_` methods, or load it
/// from JSON ([`MappingConfig::from_json_str`]) or TOML (`from_toml_str`, feature
/// `toml`). Every topic it can produce is checked when it is built, so mapping never
/// meets a bad topic.
///
/// ```
/// use labwire_model::mqtt::{MappingConfig, PayloadFormat, PrivacyProfile};
///
/// let config = MappingConfig::from_json_str(r#"{
///     "site": "site-a", "area": "chem", "gateway": "gw-01", "instrument": "an-01",
///     "pseudonymization": { "key_hex": "000102030405060708090a0b0c0d0e0f", "key_id": "k1" }
/// }"#)?;
/// assert_eq!(config.privacy(), PrivacyProfile::Pseudonymized);
/// assert_eq!(config.format(), PayloadFormat::Json);
///
/// let error = MappingConfig::from_json_str(r#"{"site": "Site A", "gateway": "gw"}"#).unwrap_err();
/// assert_eq!(error.field, "site");
/// # Ok::<(), labwire_model::mqtt::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MappingConfig {
    site: Slug,
    area: Slug,
    gateway: Slug,
    instrument: Option<Slug>,
    instruments: Vec<InstrumentRoute>,
    topic_template: TopicTemplate,
    gateway_topic_template: TopicTemplate,
    format: PayloadFormat,
    privacy: PrivacyProfile,
    key: Option<PseudonymKey>,
    /// Made from `key` once: the HMAC key schedule is not repeated per message.
    tokens: Tokenizer,
    publish_preliminary: bool,
    alarm_expiry_seconds: Option<u32>,
    /// The last payload size per kind: a capacity hint, never part of the output.
    payload_sizes: PayloadSizes,
    /// Event topics rendered once per route and kind. Every builder that changes a
    /// topic (area, instrument, routes, template) empties it.
    topics: TopicCache,
}

/// Rendered event topics: entry 0 for the default instrument slug, entry `i + 1`
/// for `instruments[i]`, one slot per event kind.
#[derive(Debug, Clone, Default)]
struct TopicCache(Vec<[OnceLock<TopicName>; EVENT_KINDS]>);

/// The default Message Expiry Interval of alarms, in seconds.
pub const DEFAULT_ALARM_EXPIRY_SECONDS: u32 = 3600;

/// The area used when the configuration names none.
pub const DEFAULT_AREA: &str = "lab";

impl MappingConfig {
    /// A configuration for `site` and `gateway` with the privacy profile spelt out
    /// (every profile but `full` needs a key), and defaults for the rest: area `lab`,
    /// the default topic templates, JSON, preliminary results not published, alarms
    /// expiring after an hour.
    pub fn new(
        site: &str,
        gateway: &str,
        privacy: PrivacyProfile,
        key: Option<PseudonymKey>,
    ) -> Result<Self, ConfigError> {
        let slug = |field: &str, text: &str| {
            Slug::new(text).map_err(|error| ConfigError::new(field, error))
        };
        let template = |field: &str, text: &str| {
            TopicTemplate::parse(text).map_err(|error| ConfigError::new(field, error))
        };
        Self {
            site: slug("site", site)?,
            area: slug("area", DEFAULT_AREA)?,
            gateway: slug("gateway", gateway)?,
            instrument: None,
            instruments: Vec::new(),
            topic_template: template("topic_template", DEFAULT_TOPIC_TEMPLATE)?,
            gateway_topic_template: template(
                "gateway_topic_template",
                DEFAULT_GATEWAY_TOPIC_TEMPLATE,
            )?,
            format: PayloadFormat::Json,
            privacy: PrivacyProfile::Full,
            key: None,
            tokens: Tokenizer::new(None),
            publish_preliminary: false,
            alarm_expiry_seconds: Some(DEFAULT_ALARM_EXPIRY_SECONDS),
            payload_sizes: PayloadSizes::new(),
            topics: TopicCache::default(),
        }
        .topics_changed()
        .with_privacy(privacy, key)
    }

    /// Sets the area.
    pub fn with_area(mut self, area: &str) -> Result<Self, ConfigError> {
        self.area = Slug::new(area).map_err(|error| ConfigError::new("area", error))?;
        Ok(self.topics_changed())
    }

    /// Sets the slug used for every instrument no route matches.
    pub fn with_instrument(mut self, slug: &str) -> Result<Self, ConfigError> {
        self.instrument =
            Some(Slug::new(slug).map_err(|error| ConfigError::new("instrument", error))?);
        Ok(self.topics_changed())
    }

    /// Routes the instrument that calls itself `id` to `slug` (and `area`).
    pub fn with_route(
        mut self,
        id: &str,
        slug: &str,
        area: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let field = format!("instruments[{}]", self.instruments.len());
        let route = InstrumentRoute {
            id: id.to_owned(),
            slug: Slug::new(slug).map_err(|error| ConfigError::new(&field, error))?,
            area: area
                .map(Slug::new)
                .transpose()
                .map_err(|error| ConfigError::new(&field, error))?,
        };
        self.instruments.push(route);
        Ok(self.topics_changed())
    }

    /// Sets the topic template (see [`TopicTemplate`]); it must contain `{kind}`.
    pub fn with_topic_template(mut self, template: &str) -> Result<Self, ConfigError> {
        self.topic_template = parse_template("topic_template", template, Placeholder::Kind)?;
        Ok(self.topics_changed())
    }

    /// Sets the gateway liveness topic template; it must contain `{gateway}`.
    pub fn with_gateway_topic_template(mut self, template: &str) -> Result<Self, ConfigError> {
        self.gateway_topic_template =
            parse_template("gateway_topic_template", template, Placeholder::Gateway)?;
        Ok(self)
    }

    /// Sets the payload format.
    pub fn with_format(mut self, format: PayloadFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets the privacy profile and its key (which every profile but `full` needs).
    pub fn with_privacy(
        mut self,
        profile: PrivacyProfile,
        key: Option<PseudonymKey>,
    ) -> Result<Self, ConfigError> {
        if profile.needs_key() && key.is_none() {
            return Err(ConfigError::new(
                "pseudonymization",
                format_args!(
                    "the `{}` privacy profile needs a key (`key_hex` and `key_id`)",
                    profile.as_str()
                ),
            ));
        }
        let caches = self.tokens.caches();
        self.privacy = profile;
        self.tokens = Tokenizer::new(key.as_ref());
        self.tokens.set_cache(caches);
        self.key = key;
        Ok(self)
    }

    /// Whether recent tokens are cached (the default). A token is an HMAC-SHA256,
    /// a few hundred nanoseconds for a report's handful; a re-sent report, or the
    /// next report on the same specimen, repeats the same ids, and the cache turns
    /// those into lookups. It keeps the inputs of the last 64 tokens (identifiers,
    /// i.e. PHI, in clear) in this configuration's memory; turn it off if that
    /// matters more than the time. Output is the same either way.
    pub fn with_token_cache(mut self, enabled: bool) -> Self {
        self.tokens.set_cache(enabled);
        self
    }

    /// Whether recent tokens are cached ([`Self::with_token_cache`]).
    pub fn caches_tokens(&self) -> bool {
        self.tokens.caches()
    }

    /// Whether results with a preliminary status (P, R, I, S) are published.
    pub fn with_preliminary_results(mut self, publish: bool) -> Self {
        self.publish_preliminary = publish;
        self
    }

    /// Sets the Message Expiry Interval of alarms (`None`: never expire).
    pub fn with_alarm_expiry(mut self, seconds: Option<u32>) -> Self {
        self.alarm_expiry_seconds = seconds;
        self
    }

    /// The site.
    pub fn site(&self) -> &Slug {
        &self.site
    }

    /// The default area.
    pub fn area(&self) -> &Slug {
        &self.area
    }

    /// The gateway.
    pub fn gateway(&self) -> &Slug {
        &self.gateway
    }

    /// The default instrument slug.
    pub fn instrument(&self) -> Option<&Slug> {
        self.instrument.as_ref()
    }

    /// The instrument routes.
    pub fn instruments(&self) -> &[InstrumentRoute] {
        &self.instruments
    }

    /// The topic template.
    pub fn topic_template(&self) -> &TopicTemplate {
        &self.topic_template
    }

    /// The gateway liveness topic template.
    pub fn gateway_topic_template(&self) -> &TopicTemplate {
        &self.gateway_topic_template
    }

    /// The payload format.
    pub fn format(&self) -> PayloadFormat {
        self.format
    }

    /// The privacy profile.
    pub fn privacy(&self) -> PrivacyProfile {
        self.privacy
    }

    /// The pseudonymization key.
    pub fn key(&self) -> Option<&PseudonymKey> {
        self.key.as_ref()
    }

    /// The token maker for this configuration's key.
    pub(crate) fn tokens(&self) -> &Tokenizer {
        &self.tokens
    }

    /// The payload capacity hints.
    pub(super) fn payload_sizes(&self) -> &PayloadSizes {
        &self.payload_sizes
    }

    /// Whether preliminary results are published.
    pub fn publishes_preliminary_results(&self) -> bool {
        self.publish_preliminary
    }

    /// The Message Expiry Interval of alarms.
    pub fn alarm_expiry_seconds(&self) -> Option<u32> {
        self.alarm_expiry_seconds
    }

    /// The slug and area of an instrument: the first route whose id equals the
    /// instrument's local id, name or serial number, else the default slug.
    pub fn route(&self, instrument: &Instrument) -> Option<(&Slug, &Slug)> {
        self.route_index(instrument)
            .and_then(|index| self.route_at(index))
    }

    /// Which route [`Self::route`] takes: 0 for the default slug, `i + 1` for
    /// `instruments[i]`.
    pub(super) fn route_index(&self, instrument: &Instrument) -> Option<usize> {
        let sent = [
            &instrument.local_id,
            &instrument.name,
            &instrument.serial_number,
        ];
        // Compared as bytes: no UTF-8 check of the instrument's texts.
        self.instruments
            .iter()
            .position(|route| {
                sent.iter()
                    .any(|sent| sent.as_ref().map(Text::as_bytes) == Some(route.id.as_bytes()))
            })
            .map(|index| index + 1)
            .or_else(|| self.instrument.as_ref().map(|_| 0))
    }

    /// The slug and area of a [`Self::route_index`].
    pub(super) fn route_at(&self, index: usize) -> Option<(&Slug, &Slug)> {
        match index.checked_sub(1) {
            None => self.instrument.as_ref().map(|slug| (slug, &self.area)),
            Some(route) => self
                .instruments
                .get(route)
                .map(|route| (&route.slug, route.area.as_ref().unwrap_or(&self.area))),
        }
    }

    /// The topic of `kind` events on a route: rendered by `render` the first time,
    /// then shared (a `TopicName` clone is a reference count).
    pub(super) fn event_topic(
        &self,
        route: usize,
        kind: EventKind,
        render: impl FnOnce() -> Result<TopicName, TopicError>,
    ) -> Result<TopicName, TopicError> {
        let Some(slot) = self
            .topics
            .0
            .get(route)
            .and_then(|slots| slots.get(kind_index(kind)))
        else {
            return render();
        };
        if let Some(topic) = slot.get() {
            return Ok(topic.clone());
        }
        let topic = render()?;
        // Another thread may have set it meanwhile: to the same topic.
        let _ = slot.set(topic.clone());
        Ok(topic)
    }

    /// Empties the topic cache, sized for the current routes.
    fn topics_changed(mut self) -> Self {
        self.topics = TopicCache(
            (0..=self.instruments.len())
                .map(|_| Default::default())
                .collect(),
        );
        self
    }

    /// Loads a configuration from JSON text.
    pub fn from_json_str(text: &str) -> Result<Self, ConfigError> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| ConfigError::new("", error))?;
        Self::from_value(value)
    }

    /// Loads a configuration from TOML text.
    #[cfg(feature = "toml")]
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|error| ConfigError::new("", error))?;
        let value = serde_json::to_value(table).map_err(|error| ConfigError::new("", error))?;
        Self::from_value(value)
    }

    /// Loads a configuration from a JSON value, e.g. a table of a larger
    /// configuration file. Unknown fields are errors: a misspelt `privacy` must not
    /// silently leave the default in place.
    ///
    /// Fields: `site`, `gateway` (required); `area`, `instrument`,
    /// `instruments` (`[{id, slug, area?}]`), `topic_template`,
    /// `gateway_topic_template`, `format` (`json`|`cbor`), `privacy` (`full`,
    /// `pseudonymized`, `minimal`, `id-only`; default `pseudonymized`),
    /// `pseudonymization` (`{key_hex, key_id}`), `publish_preliminary` (bool),
    /// `alarm_expiry_seconds` (number, 0 for never), `token_cache` (bool, default
    /// true; see [`Self::with_token_cache`]).
    pub fn from_value(value: Value) -> Result<Self, ConfigError> {
        let mut fields = Fields::new(value, "")?;
        let site: String = fields.required("site")?;
        let gateway: String = fields.required("gateway")?;
        let privacy = fields
            .optional::<PrivacyProfile>("privacy")?
            .unwrap_or_default();
        let key = match fields.optional::<Value>("pseudonymization")? {
            Some(table) => {
                let mut table = Fields::new(table, "pseudonymization")?;
                let hex: String = table.required("key_hex")?;
                let key_id: String = table.required("key_id")?;
                table.finish()?;
                Some(PseudonymKey::from_hex(&hex, &key_id).ok_or_else(|| {
                    ConfigError::new(
                        "pseudonymization",
                        "`key_hex` must be at least 32 hex digits and `key_id` 1 to 32 \
                         characters of A-Z a-z 0-9 . _ -",
                    )
                })?)
            }
            None => None,
        };
        let mut config = Self::new(&site, &gateway, privacy, key)?;
        if let Some(area) = fields.optional::<String>("area")? {
            config = config.with_area(&area)?;
        }
        if let Some(instrument) = fields.optional::<String>("instrument")? {
            config = config.with_instrument(&instrument)?;
        }
        if let Some(routes) = fields.optional::<Vec<Value>>("instruments")? {
            for (index, route) in routes.into_iter().enumerate() {
                let path = format!("instruments[{index}]");
                let mut route = Fields::new(route, &path)?;
                let id: String = route.required("id")?;
                let slug: String = route.required("slug")?;
                let area: Option<String> = route.optional("area")?;
                route.finish()?;
                config = config
                    .with_route(&id, &slug, area.as_deref())
                    .map_err(|error| ConfigError::new(&path, error.reason))?;
            }
        }
        if let Some(template) = fields.optional::<String>("topic_template")? {
            config = config.with_topic_template(&template)?;
        }
        if let Some(template) = fields.optional::<String>("gateway_topic_template")? {
            config = config.with_gateway_topic_template(&template)?;
        }
        if let Some(format) = fields.optional("format")? {
            config = config.with_format(format);
        }
        if let Some(publish) = fields.optional("publish_preliminary")? {
            config = config.with_preliminary_results(publish);
        }
        if let Some(seconds) = fields.optional::<u32>("alarm_expiry_seconds")? {
            config = config.with_alarm_expiry((seconds > 0).then_some(seconds));
        }
        if let Some(enabled) = fields.optional("token_cache")? {
            config = config.with_token_cache(enabled);
        }
        fields.finish()?;
        Ok(config)
    }
}

fn parse_template(
    field: &str,
    text: &str,
    required: Placeholder,
) -> Result<TopicTemplate, ConfigError> {
    let template = TopicTemplate::parse(text).map_err(|error| ConfigError::new(field, error))?;
    if !template.uses(required) {
        return Err(ConfigError::new(field, TemplateError::Missing(required)));
    }
    Ok(template)
}

/// The fields of one configuration table, taken one by one so every error names
/// its field, and whatever is left at the end is an unknown field.
struct Fields {
    path: String,
    map: Map<String, Value>,
}

impl Fields {
    fn new(value: Value, path: &str) -> Result<Self, ConfigError> {
        match value {
            Value::Object(map) => Ok(Self {
                path: path.to_owned(),
                map,
            }),
            other => Err(ConfigError::new(
                path,
                format_args!("expected a table, found {}", kind_of(&other)),
            )),
        }
    }

    fn field_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, ConfigError> {
        match self.map.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|error| ConfigError::new(self.field_path(name), error)),
        }
    }

    fn required<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, ConfigError> {
        self.optional(name)?
            .ok_or_else(|| ConfigError::new(self.field_path(name), "missing"))
    }

    fn finish(self) -> Result<(), ConfigError> {
        match self.map.keys().next() {
            Some(unknown) => Err(ConfigError::new(self.field_path(unknown), "unknown field")),
            None => Ok(()),
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        r#""pseudonymization": {"key_hex": "000102030405060708090a0b0c0d0e0f", "key_id": "k1"}"#;

    fn load(body: &str) -> Result<MappingConfig, ConfigError> {
        MappingConfig::from_json_str(body)
    }

    #[test]
    fn every_field_loads() {
        let config = load(&format!(
            r#"{{"site": "site-a", "area": "chem", "gateway": "gw-01", "instrument": "an-01",
                "instruments": [{{"id": "AU5800-01", "slug": "au-01", "area": "core"}}],
                "topic_template": "acme/{{site}}/{{instrument}}/{{kind}}",
                "gateway_topic_template": "acme/{{site}}/_gw/{{gateway}}",
                "format": "cbor", "privacy": "minimal", {KEY},
                "publish_preliminary": true, "alarm_expiry_seconds": 0}}"#
        ))
        .unwrap();
        assert_eq!(config.site().as_str(), "site-a");
        assert_eq!(config.area().as_str(), "chem");
        assert_eq!(config.format(), PayloadFormat::Cbor);
        assert_eq!(config.privacy(), PrivacyProfile::Minimal);
        assert_eq!(config.key().unwrap().key_id(), "k1");
        assert!(config.publishes_preliminary_results());
        assert_eq!(config.alarm_expiry_seconds(), None);
        let routed = Instrument::with_local_id("AU5800-01");
        let (slug, area) = config.route(&routed).unwrap();
        assert_eq!((slug.as_str(), area.as_str()), ("au-01", "core"));
        let (slug, area) = config.route(&Instrument::default()).unwrap();
        assert_eq!((slug.as_str(), area.as_str()), ("an-01", "chem"));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"gateway": "gw"}"#.to_owned(), "site"),
            (r#"{"site": "Site A", "gateway": "gw"}"#.to_owned(), "site"),
            (r#"{"site": 5, "gateway": "gw"}"#.to_owned(), "site"),
            (r#"{"site": "s", "gateway": "gw", "privacy": "full", "colour": 1}"#.to_owned(), "colour"),
            (r#"{"site": "s", "gateway": "gw", "privacy": "anonymous"}"#.to_owned(), "privacy"),
            (r#"{"site": "s", "gateway": "gw"}"#.to_owned(), "pseudonymization"),
            (
                r#"{"site": "s", "gateway": "gw", "pseudonymization": {"key_hex": "00", "key_id": "k"}}"#.to_owned(),
                "pseudonymization",
            ),
            (
                format!(r#"{{"site": "s", "gateway": "gw", {KEY}, "topic_template": "lab/{{specimen}}/{{kind}}"}}"#),
                "topic_template",
            ),
            (
                format!(r#"{{"site": "s", "gateway": "gw", {KEY}, "topic_template": "lab/{{site}}"}}"#),
                "topic_template",
            ),
            (
                format!(r#"{{"site": "s", "gateway": "gw", {KEY}, "instruments": [{{"id": "x", "slug": "ok"}}, {{"id": "y", "slug": "Bad"}}]}}"#),
                "instruments[1]",
            ),
            (
                format!(r#"{{"site": "s", "gateway": "gw", {KEY}, "instruments": [{{"id": "x", "slug": "ok", "zone": 1}}]}}"#),
                "instruments[0].zone",
            ),
            (
                format!(r#"{{"site": "s", "gateway": "gw", {KEY}, "alarm_expiry_seconds": -1}}"#),
                "alarm_expiry_seconds",
            ),
            (r#"[1]"#.to_owned(), ""),
            (r#"{"site": "#.to_owned(), ""),
        ];
        for (text, field) in cases {
            let error = load(&text).unwrap_err();
            assert_eq!(error.field, field, "{text}: {error}");
            assert!(error.to_string().contains(&format!("`{field}`")), "{error}");
        }
    }

    #[test]
    fn toml_loads_the_same_configuration() {
        let config = MappingConfig::from_toml_str(
            r#"
            site = "site-a"
            gateway = "gw-01"
            instrument = "an-01"
            privacy = "id-only"

            [pseudonymization]
            key_hex = "000102030405060708090a0b0c0d0e0f"
            key_id = "k1"

            [[instruments]]
            id = "XN-10^00-22"
            slug = "xn-01"
            "#,
        )
        .unwrap();
        assert_eq!(config.privacy(), PrivacyProfile::IdOnly);
        assert_eq!(config.instruments().len(), 1);
        let error = MappingConfig::from_toml_str("site = \"site-a\"\ngateway = 7\n").unwrap_err();
        assert_eq!(error.field, "gateway");
    }
}
