"""Stand-in for comfy.model_management's interrupt flag."""

interrupt_processing = False


class InterruptProcessingException(Exception):
    pass


def throw_exception_if_processing_interrupted():
    global interrupt_processing
    if interrupt_processing:
        interrupt_processing = False
        raise InterruptProcessingException()
