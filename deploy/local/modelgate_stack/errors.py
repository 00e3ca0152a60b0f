"""The one error the stack raises: a message a person can act on, printed without a trace."""


class StackError(Exception):
    pass
