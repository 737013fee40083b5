//! Interface text in English and Indonesian (the seed tutorial's language).

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use sesi::Session;

/// Session key that remembers a language chosen with `?lang=`.
pub const LANG_KEY: &str = "lang";

/// A supported interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Bahasa Indonesia.
    Id,
}

impl Lang {
    /// `en` or `id`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Id => "id",
        }
    }

    /// Parses `en` / `id` (case-insensitive).
    #[must_use]
    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "id" => Some(Lang::Id),
            _ => None,
        }
    }

    /// The preferred supported language of an `Accept-Language` header (highest q wins, ties by
    /// order); English when none is supported.
    #[must_use]
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::from_code(primary)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// The language of this request: `?lang=` (remembered in the session), else the session's,
    /// else `Accept-Language`.
    pub fn resolve(session: &Session, query: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = query.and_then(Lang::from_code) {
            if session.get::<String>(LANG_KEY).ok().flatten().as_deref() != Some(lang.code()) {
                // Remembered if it fits: a cookie session too full for it shows this page in the
                // language asked for and keeps the one it had.
                if let Err(err) = session.try_insert(LANG_KEY, lang.code()) {
                    tracing::warn!(%err, "language not remembered");
                }
            }
            return lang;
        }
        if let Some(lang) = session
            .get::<String>(LANG_KEY)
            .ok()
            .flatten()
            .and_then(|c| Lang::from_code(&c))
        {
            return lang;
        }
        Lang::from_headers(headers)
    }

    /// The language from `Accept-Language` alone (error pages, which have no session).
    #[must_use]
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::En, Lang::from_accept_language)
    }

    /// The texts of this language.
    #[must_use]
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Id => &ID,
        }
    }
}

/// Every fixed string of the interface.
#[derive(Debug)]
#[allow(missing_docs)]
pub struct Texts {
    pub lang: &'static str,
    pub nav_counter: &'static str,
    pub nav_cart: &'static str,
    pub nav_inspector: &'static str,
    pub counter_title: &'static str,
    pub visits_before: &'static str,
    pub visits_after: &'static str,
    pub counter_hint: &'static str,
    pub reset: &'static str,
    pub cart_title: &'static str,
    pub catalogue: &'static str,
    pub product: &'static str,
    pub price: &'static str,
    pub quantity: &'static str,
    pub line_total: &'static str,
    pub total: &'static str,
    pub add: &'static str,
    pub update: &'static str,
    pub remove: &'static str,
    pub empty_cart: &'static str,
    pub remember_me: &'static str,
    pub remember_save: &'static str,
    pub remembered: &'static str,
    pub not_remembered: &'static str,
    pub cart_is_empty: &'static str,
    pub cart_hint: &'static str,
    pub added: &'static str,
    pub updated: &'static str,
    pub removed: &'static str,
    pub emptied: &'static str,
    pub err_quantity: &'static str,
    pub err_unknown_product: &'static str,
    pub err_not_in_cart: &'static str,
    pub err_too_many_lines: &'static str,
    pub err_too_large: &'static str,
    pub inspector_title: &'static str,
    pub inspector_hint: &'static str,
    pub step_cookie: &'static str,
    pub step_verify: &'static str,
    pub format_label: &'static str,
    pub reserved_label: &'static str,
    pub step_payload: &'static str,
    pub step_size: &'static str,
    pub step_set_cookie: &'static str,
    pub no_cookie_header: &'static str,
    pub accessed: &'static str,
    pub created: &'static str,
    pub state: &'static str,
    pub no_payload: &'static str,
    pub unverified: &'static str,
    pub no_set_cookie: &'static str,
    pub bytes_of: &'static str,
    pub decode_title: &'static str,
    pub decode_button: &'static str,
    pub decode_hint: &'static str,
    pub decode_not_in_url: &'static str,
    pub decode_encrypted_refused: &'static str,
    pub encrypted_note: &'static str,
    pub lives_in: &'static str,
    pub footer: &'static str,
}

static EN: Texts = Texts {
    lang: "en",
    nav_counter: "Visit counter",
    nav_cart: "Shopping cart",
    nav_inspector: "Session inspector",
    counter_title: "Visit counter",
    visits_before: "You have visited this page",
    visits_after: "times; the number lives in your browser's signed cookie.",
    counter_hint: "Refresh the page: the number goes up, and the server remembers nothing. Open the inspector to see the cookie.",
    reset: "Reset session",
    cart_title: "Shopping cart",
    catalogue: "Menu",
    product: "Product",
    price: "Price",
    quantity: "Quantity",
    line_total: "Line total",
    total: "Total",
    add: "Add to cart",
    update: "Update",
    remove: "Remove",
    empty_cart: "Empty the cart",
    remember_me: "Remember me on this browser for 30 days",
    remember_save: "Save",
    remembered: "You will be remembered on this browser for 30 days after your last visit.",
    not_remembered: "You will be forgotten when the browser closes.",
    cart_is_empty: "Your cart is empty.",
    cart_hint: "The cart lives in your signed cookie as product ids and quantities; prices and totals are computed on the server.",
    added: "Added to your cart:",
    updated: "Quantity updated:",
    removed: "Removed from your cart:",
    emptied: "Your cart is now empty.",
    err_quantity: "Quantity must be a whole number from 1 to 99.",
    err_unknown_product: "There is no such product.",
    err_not_in_cart: "That product is not in your cart.",
    err_too_many_lines: "A cart holds at most 50 different products.",
    err_too_large: "Your cart is too large to fit in a cookie; the change was not saved.",
    inspector_title: "Session inspector",
    inspector_hint: "Each step of the session lifecycle, for this very request.",
    step_cookie: "1. Cookie header received",
    step_verify: "2. Verification",
    format_label: "cookie format",
    reserved_label: "Keys the cookie format reserves",
    step_payload: "3. Decoded payload",
    step_size: "4. Cookie size",
    step_set_cookie: "5. Set-Cookie on this response",
    no_cookie_header: "No Cookie header: this is a new visitor.",
    accessed: "accessed",
    created: "created",
    state: "state",
    no_payload: "Nothing to decode.",
    unverified: "UNVERIFIED: the signature does not match, this is only what the cookie claims. Anyone can read a signed cookie.",
    no_set_cookie: "None needed: nothing changed.",
    bytes_of: "bytes of the 4096-byte budget",
    decode_title: "Decode any cookie",
    decode_button: "Decode and verify",
    decode_hint: "Paste a session cookie value: it is verified with this server's secret(s).",
    decode_not_in_url: "A cookie in the address is not decoded: addresses end up in the browser's history and in proxy logs. Paste it into the form.",
    decode_encrypted_refused: "This server's cookies are encrypted, so a pasted cookie is not decrypted here: the form would otherwise let anyone holding a copy of someone else's cookie read it. Your own session is shown, decrypted, on the inspector page.",
    encrypted_note: "This cookie is encrypted: the visitor cannot read it. What you see below is your own session, decrypted by the server.",
    lives_in: "The session lives in",
    footer: "sesi: Pyramid-compatible signed-cookie sessions for Rust.",
};

static ID: Texts = Texts {
    lang: "id",
    nav_counter: "Penghitung kunjungan",
    nav_cart: "Keranjang belanja",
    nav_inspector: "Pemeriksa sesi",
    counter_title: "Penghitung kunjungan",
    visits_before: "Anda telah mengunjungi halaman ini",
    visits_after: "kali; angka itu tersimpan di cookie bertanda tangan di peramban Anda.",
    counter_hint: "Muat ulang halaman: angkanya naik, dan server tidak mengingat apa pun. Buka pemeriksa untuk melihat cookie-nya.",
    reset: "Atur ulang sesi",
    cart_title: "Keranjang belanja",
    catalogue: "Menu",
    product: "Produk",
    price: "Harga",
    quantity: "Jumlah",
    line_total: "Subtotal",
    total: "Total",
    add: "Tambahkan",
    update: "Ubah",
    remove: "Hapus",
    empty_cart: "Kosongkan keranjang",
    remember_me: "Ingat saya di peramban ini selama 30 hari",
    remember_save: "Simpan",
    remembered: "Anda akan diingat di peramban ini selama 30 hari sejak kunjungan terakhir.",
    not_remembered: "Anda akan dilupakan saat peramban ditutup.",
    cart_is_empty: "Keranjang Anda kosong.",
    cart_hint: "Keranjang tersimpan di cookie bertanda tangan berupa id produk dan jumlah; harga dan total dihitung di server.",
    added: "Ditambahkan ke keranjang:",
    updated: "Jumlah diubah:",
    removed: "Dihapus dari keranjang:",
    emptied: "Keranjang Anda sekarang kosong.",
    err_quantity: "Jumlah harus bilangan bulat dari 1 sampai 99.",
    err_unknown_product: "Produk itu tidak ada.",
    err_not_in_cart: "Produk itu tidak ada di keranjang Anda.",
    err_too_many_lines: "Keranjang memuat paling banyak 50 produk berbeda.",
    err_too_large: "Keranjang terlalu besar untuk disimpan di cookie; perubahan tidak disimpan.",
    inspector_title: "Pemeriksa sesi",
    inspector_hint: "Setiap langkah siklus hidup sesi, untuk permintaan ini.",
    step_cookie: "1. Header Cookie yang diterima",
    step_verify: "2. Verifikasi",
    format_label: "format cookie",
    reserved_label: "Kunci yang dicadangkan format cookie",
    step_payload: "3. Isi yang didekode",
    step_size: "4. Ukuran cookie",
    step_set_cookie: "5. Set-Cookie pada respons ini",
    no_cookie_header: "Tidak ada header Cookie: ini pengunjung baru.",
    accessed: "diakses",
    created: "dibuat",
    state: "isi",
    no_payload: "Tidak ada yang bisa didekode.",
    unverified: "TIDAK TERVERIFIKASI: tanda tangan tidak cocok, ini hanya klaim cookie tersebut. Siapa pun bisa membaca cookie bertanda tangan.",
    no_set_cookie: "Tidak perlu: tidak ada yang berubah.",
    bytes_of: "byte dari anggaran 4096 byte",
    decode_title: "Dekode cookie apa pun",
    decode_button: "Dekode dan verifikasi",
    decode_hint: "Tempel nilai cookie sesi: nilai itu diverifikasi dengan rahasia server ini.",
    decode_not_in_url: "Cookie di alamat tidak didekode: alamat tersimpan di riwayat peramban dan log proxy. Tempel ke formulir.",
    decode_encrypted_refused: "Cookie server ini terenkripsi, jadi cookie yang ditempel tidak didekripsi di sini: jika tidak, formulir ini memungkinkan siapa pun yang memegang salinan cookie orang lain membacanya. Sesi Anda sendiri ditampilkan, terdekripsi, di halaman inspektur.",
    encrypted_note: "Cookie ini terenkripsi: pengunjung tidak dapat membacanya. Yang Anda lihat di bawah adalah sesi Anda sendiri, didekripsi oleh server.",
    lives_in: "Sesi tersimpan di",
    footer: "sesi: sesi cookie bertanda tangan yang kompatibel dengan Pyramid, untuk Rust.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_supported_quality() {
        assert_eq!(
            Lang::from_accept_language("id-ID,id;q=0.9,en;q=0.8"),
            Lang::Id
        );
        assert_eq!(
            Lang::from_accept_language("fr, en;q=0.5, id;q=0.7"),
            Lang::Id
        );
        assert_eq!(Lang::from_accept_language("fr, de"), Lang::En);
        assert_eq!(Lang::from_accept_language("id;q=0, en"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
    }
}
