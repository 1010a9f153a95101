-- The search keys of workers (`search_name`, `search_other`) and fractions (`name_key`) are
-- remade with `store::text::fold` as it now is (NFKD, ẞ, the typographic apostrophes and dashes
-- read as spaces). SQL cannot fold: the work is the Rust step
-- `storage::refold_search_keys`, run after this file in the same transaction. Only rows whose
-- key changes are written.
SELECT 1;
