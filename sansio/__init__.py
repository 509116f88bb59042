"""inferwire's pure core: request builders, flows and stream parsers, with no I/O."""
from ._effects import Done, Effect, Flow, FlowRunner, Open, Receive, Send, Sleep, StreamDecoder, Streaming
from ._http import Headers, Request, Response, ResponseHead
