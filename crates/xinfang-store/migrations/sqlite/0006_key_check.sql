-- Which key the database was written with: a keyed hash of a constant (not the key), so a node
-- started with another key (a wrong key file copied to a second node, say) refuses to start
-- instead of writing rows no other node can read.
create table key_check (
    id integer primary key check (id = 1),
    mac text not null
);
