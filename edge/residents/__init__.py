"""What residents send: the durable outbox and the rules a submission must meet before it is accepted."""
