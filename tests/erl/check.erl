#!/usr/bin/env escript
%% -*- erlang -*-
%% SPDX-License-Identifier: Apache-2.0
%%
%% check.erl - the Erlang side of the C -> Erlang direction of the ETF round
%% trip: binary_to_term of every encoding C wrote must be the intended term.
%%   check.erl CORPUS OUTDIR
%% CORPUS is gen.erl's file; OUTDIR holds etf_roundtrip's c_enc.etf (C's
%% two encodings of each corpus term, compared with the corpus term) and
%% c_gen.etf (terms built in C: expression text, evaluated here, and the two
%% encodings, compared with its value; where no map has over 32 keys, Erlang's
%% own encodings of that value must also be C's bytes). Prints
%% "N passed, M failed" and exits 1 on any failure.
-mode(compile).

main([Corpus, Dir]) ->
    {ok, C} = file:read_file(Corpus),
    {ok, E} = file:read_file(filename:join(Dir, "c_enc.etf")),
    {ok, G} = file:read_file(filename:join(Dir, "c_gen.etf")),
    R1 = corpus(C, E, 0, {0, 0}),
    {P, F} = generated(G, 0, R1),
    io:format("check.erl: ~b passed, ~b failed~n", [P, F]),
    halt(case F of 0 -> 0; _ -> 1 end).

count(true, {P, F}) -> {P + 1, F};
count(false, {P, F}) -> {P, F + 1}.

corpus(<<>>, <<>>, _, Acc) -> Acc;
corpus(<<_Flags, L2:32, V2:L2/binary, L1:32, _:L1/binary, LZ:32, _:LZ/binary, Rest/binary>>,
       <<CL2:32, C2:CL2/binary, CL1:32, C1:CL1/binary, ERest/binary>>, I, Acc) ->
    T = binary_to_term(V2),
    Ok = same(I, "corpus utf8", C2, T) and same(I, "corpus latin1", C1, T),
    corpus(Rest, ERest, I + 1, count(Ok, Acc));
corpus(_, _, I, Acc) ->
    io:format("term ~b: corpus and c_enc.etf do not line up~n", [I]),
    count(false, Acc).

generated(<<>>, _, Acc) -> Acc;
generated(<<TL:32, Text:TL/binary, L2:32, C2:L2/binary, L1:32, C1:L1/binary, Rest/binary>>, I, Acc) ->
    Ok = try
             T = fix(eval(Text)),
             Det = deterministic(T),
             R = [same(I, "C-built utf8", C2, T), same(I, "C-built latin1", C1, T),
                  exact(I, Det, "utf8", C2, term_to_binary(T, [{minor_version, 2}])),
                  exact(I, Det, "latin1", C1, term_to_binary(T))],
             lists:all(fun(X) -> X end, R)
         catch Class:Why ->
                 io:format("term ~b: ~p:~p on ~ts~n", [I, Class, Why, Text]),
                 false
         end,
    generated(Rest, I + 1, count(Ok, Acc));
generated(_, I, Acc) ->
    io:format("term ~b: c_gen.etf is truncated~n", [I]),
    count(false, Acc).

same(I, What, Bytes, T) ->
    case catch binary_to_term(Bytes) of
        X when X =:= T -> true;
        {'EXIT', Why} -> io:format("term ~b: ~s: binary_to_term failed: ~p~n", [I, What, Why]), false;
        _ -> io:format("term ~b: ~s: C's bytes decode to a different term~n", [I, What]), false
    end.

exact(_, false, _, _, _) -> true;
exact(_, true, _, B, B) -> true;
exact(I, true, What, _, _) ->
    io:format("term ~b: ~s: Erlang encodes the C-built term to other bytes than C~n", [I, What]),
    false.

eval(Text) ->
    {ok, Toks, _} = erl_scan:string(unicode:characters_to_list(Text, utf8)),
    {ok, Exprs} = erl_parse:parse_exprs(Toks),
    {value, V, _} = erl_eval:exprs(Exprs, []),
    V.

%% {'$pid', Node, Id, Serial, Creation} and friends become the real thing.
fix({'$pid', Node, Id, Serial, Cr}) ->
    binary_to_term(<<131, 88, (node_ext(Node))/binary, Id:32, Serial:32, Cr:32>>);
fix({'$ref', Node, Cr, Ws}) ->
    binary_to_term(<<131, 90, (length(Ws)):16, (node_ext(Node))/binary, Cr:32,
                     (<< <<W:32>> || W <- Ws >>)/binary>>);
fix({'$port', Node, Id, Cr}) ->
    binary_to_term(<<131, 120, (node_ext(Node))/binary, Id:64, Cr:32>>);
fix(T) when is_tuple(T) -> list_to_tuple(fix_list(tuple_to_list(T)));
fix(L) when is_list(L) -> fix_list(L);
fix(M) when is_map(M) -> maps:from_list([{fix(K), fix(V)} || {K, V} <- maps:to_list(M)]);
fix(X) -> X.

fix_list([H | T]) -> [fix(H) | fix_list(T)];
fix_list([]) -> [];
fix_list(Tail) -> fix(Tail).

node_ext(Node) -> B = atom_to_binary(Node, utf8), <<119, (byte_size(B)), B/binary>>.

deterministic(M) when is_map(M) ->
    map_size(M) =< 32 andalso deterministic(maps:to_list(M));
deterministic(T) when is_tuple(T) -> deterministic(tuple_to_list(T));
deterministic([H | T]) -> deterministic(H) andalso deterministic(T);
deterministic(_) -> true.
