-- A trigger that refuses some of the application's deletes: tasks not linked to an issue (chat tasks) stay.
CREATE FUNCTION refuse_chat_task_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.issue_id IS NULL THEN
        RAISE EXCEPTION 'chat task % may not be deleted', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END
$$;

CREATE TRIGGER trg_refuse_chat_task_delete BEFORE DELETE ON agent_task_queue
    FOR EACH ROW EXECUTE FUNCTION refuse_chat_task_delete();
