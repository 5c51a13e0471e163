//! Typed events: a type that knows its topic.

/// An event a contract emits: its data is the value as JSON, under the topic [`Event::TOPIC`].
/// `#[derive(Event)]` implements it, the topic being the type's name in snake case unless
/// `#[event(topic = "...")]` says otherwise (1 to 256 bytes, as the host accepts).
///
/// A tuple struct's data is a JSON array and a one-field tuple struct's is that field's, so a
/// contract can give a type to an event it used to emit as a tuple without changing its data.
///
/// ```
/// use vellum_sdk::{testing::{Host, TestHost}, contract, Address, Event, Result};
///
/// /// A vote was cast: (voter, choice).
/// #[derive(serde::Serialize, Event)]
/// pub struct Voted(pub Address, pub u8);
///
/// /// The meeting closed.
/// #[derive(serde::Serialize, Event)]
/// #[event(topic = "meeting_closed")]
/// pub struct Closed {
///     pub votes: u32,
/// }
///
/// pub struct Poll;
///
/// #[contract]
/// impl Poll {
///     #[execute]
///     pub fn vote(choice: u8) -> Result<()> {
///         Voted(vellum_sdk::env::caller(), choice).emit();
///         Closed { votes: 1 }.emit();
///         Ok(())
///     }
/// }
///
/// assert_eq!(Voted::TOPIC, "voted");
/// let alice = Address([1; 32]);
/// let reply = TestHost::<Poll>::new().execute(alice, "vote", serde_json::json!({"choice": 2}));
/// assert_eq!(reply.events[0].topic, "voted");
/// assert_eq!(reply.events[0].json(), serde_json::json!([alice, 2]));
/// assert_eq!(reply.events[1].topic, "meeting_closed");
/// assert_eq!(reply.events[1].json(), serde_json::json!({"votes": 1}));
/// ```
pub trait Event: serde::Serialize {
    /// The event's topic: what receipts show and subscriptions filter on.
    const TOPIC: &'static str;

    /// Record this event (see [`env::emit`](crate::env::emit)): it is kept, in emission order,
    /// only if the call succeeds.
    fn emit(&self) {
        crate::env::emit(Self::TOPIC, self);
    }
}
