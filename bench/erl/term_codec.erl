%% SPDX-License-Identifier: Apache-2.0
%% term_codec.erl - the Erlang side of bench/term_codec.c: term_to_binary,
%% binary_to_term and both in a row, on the same two messages ({tag, 42,
%% Pid} and {data, <<1024 bytes>>}), printing the same result lines with
%% impl=erlang. Run by bench/term_codec.sh:
%%   erl -noshell -pa DIR -run term_codec main [ITERS]
-module(term_codec).
-export([main/0, main/1]).

main() -> main([]).

main(Args) ->
    Iters = case Args of
                [N | _] -> list_to_integer(N);
                [] -> 1000000
            end,
    Blob = list_to_binary([(I * 131 + 7) band 255 || I <- lists:seq(0, 1023)]),
    Msgs = [{small, {tag, 42, self()}}, {bin1k, {data, Blob}}],
    [run(Name, Term, Iters) || {Name, Term} <- Msgs],
    halt(0).

run(Name, Term, Iters) ->
    Etf = term_to_binary(Term),
    Term = binary_to_term(Etf),
    Size = byte_size(Etf),
    timed(Name, etf_encode, Iters, Size, fun(K) -> encode(Term, K, 0) end),
    timed(Name, etf_decode, Iters, Size, fun(K) -> decode(Etf, K, 0) end),
    timed(Name, etf_roundtrip, Iters, Size, fun(K) -> roundtrip(Term, K, 0) end).

%% Warm up with a tenth of the iterations, then time three rounds of them
%% all and keep the fastest, as the C side does.
timed(Name, Op, Iters, Size, Loop) ->
    Loop(Iters div 10),
    Ns = lists:min([one_round(Loop, Iters) || _ <- [1, 2, 3]]),
    io:format("workload=term_codec msg=~s op=~s iters=~b wall_ms=~.1f ns_per_op=~.2f "
              "bytes=~b impl=erlang schedulers=~b~n",
              [Name, Op, Iters, Ns / 1.0e6, Ns / max(Iters, 1), Size,
               erlang:system_info(schedulers_online)]).

one_round(Loop, Iters) ->
    T0 = erlang:monotonic_time(nanosecond),
    Loop(Iters),
    erlang:monotonic_time(nanosecond) - T0.

%% Each loop keeps a result so the call cannot be dropped.
encode(_, 0, Acc) -> Acc;
encode(T, K, Acc) -> encode(T, K - 1, Acc + byte_size(term_to_binary(T))).

decode(_, 0, Acc) -> Acc;
decode(B, K, Acc) -> decode(B, K - 1, Acc + tuple_size(binary_to_term(B))).

roundtrip(_, 0, Acc) -> Acc;
roundtrip(T, K, Acc) ->
    roundtrip(T, K - 1, Acc + tuple_size(binary_to_term(term_to_binary(T)))).
