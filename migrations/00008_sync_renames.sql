-- Synced rows carry a few names from elsewhere: a site its client's name and phone, a
-- comment its author's name and role, a checklist its template's name. Changing one of
-- those re-stamps the rows that show it, so devices get them again at their next pull.

-- +goose Up
-- +goose StatementBegin
-- sync_restamp(table, column): re-stamps the rows of table whose column names the row
-- that changed.
CREATE FUNCTION sync_restamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I SET sync_xid = pg_current_xact_id() WHERE %I = $1', TG_ARGV[0], TG_ARGV[1]) USING NEW.id;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER clients_sync_restamp AFTER UPDATE OF name, phone ON clients FOR EACH ROW
    WHEN (NEW.name IS DISTINCT FROM OLD.name OR NEW.phone IS DISTINCT FROM OLD.phone)
    EXECUTE FUNCTION sync_restamp('sites', 'client_id');
CREATE TRIGGER users_sync_restamp AFTER UPDATE OF full_name, role ON users FOR EACH ROW
    WHEN (NEW.full_name IS DISTINCT FROM OLD.full_name OR NEW.role IS DISTINCT FROM OLD.role)
    EXECUTE FUNCTION sync_restamp('comments', 'author_id');
CREATE TRIGGER checklist_templates_sync_restamp AFTER UPDATE OF name ON checklist_templates FOR EACH ROW
    WHEN (NEW.name IS DISTINCT FROM OLD.name)
    EXECUTE FUNCTION sync_restamp('ticket_checklists', 'template_id');
CREATE INDEX comments_author_idx ON comments (author_id);
CREATE INDEX ticket_checklists_template_idx ON ticket_checklists (template_id);

-- +goose Down
DROP INDEX comments_author_idx, ticket_checklists_template_idx;
DROP TRIGGER checklist_templates_sync_restamp ON checklist_templates;
DROP TRIGGER users_sync_restamp ON users;
DROP TRIGGER clients_sync_restamp ON clients;
DROP FUNCTION sync_restamp();
