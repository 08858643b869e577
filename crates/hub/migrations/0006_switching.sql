-- A voice consultation waiting for the telephony switch: the switch is asked after the
-- change that asks for it is committed, outside any transaction, and what it did is stored
-- next. 'placing': the customer is being held and the colleague dialled (the consult call's
-- id is not known yet and nobody has been told); 'connecting'; 'ending'.
ALTER TABLE voice_consultations ADD COLUMN switching TEXT
    CHECK (switching IN ('placing', 'connecting', 'ending'));
