-- The match keys of people named without a habilitation number
-- (`NOM|PRÉNOM|date de naissance|département`) are remade with `store::text::fold`, the one
-- folding of the whole project: the earlier one left ñ, œ, æ, ß and decomposed accents alone.
-- SQL cannot fold: the work is the Rust step `access::storage::refold_match_keys`, run after
-- this file in the same transaction. Two people whose keys become equal are both kept; the
-- lowest habilitation number keeps the key, the others lose it and are reported.
SELECT 1;
