//! Dumps matters matching a filter as tab-separated lines: `cargo run -p xinfang-demo --example dump -- [channel|repeat|group|long]`.

use xinfang_demo::{DemoConfig, categories, generate};

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let ms = generate(&DemoConfig {
        matters: 3000,
        ..DemoConfig::default()
    });
    let cats = categories();
    for (i, m) in ms.iter().enumerate() {
        let keep = match arg.as_str() {
            "repeat" => m.repeat_of.is_some(),
            "group" => m.people_count >= 5,
            "long" => m.content.chars().count() > 250,
            "anon" => m.petitioners.is_empty(),
            "" => true,
            c => m.channel.code() == c,
        };
        if keep {
            println!(
                "#{i} {} {} {} {} {:?} {:?} rep={:?}\n  {}\n  {}\n  {:?}\n  => {}",
                m.registered_at.format("%Y-%m-%d %H:%M"),
                m.channel,
                cats[m.category].sub,
                m.target,
                m.urgency,
                m.location,
                m.repeat_of,
                m.title,
                m.content,
                m.petitioners
                    .iter()
                    .map(|p| format!("{} {:?} {:?} {:?}", p.name, p.phone, p.id_number, p.address))
                    .collect::<Vec<_>>(),
                m.reply.as_deref().unwrap_or("-")
            );
        }
    }
}
