#!/usr/bin/env escript
%% -*- erlang -*-
%% SPDX-License-Identifier: Apache-2.0
%%
%% gen.erl - the Erlang side of the ETF round trip: a corpus of random terms
%% covering every type and edge, written as Erlang encodes them.
%%   gen.erl corpus FILE N SEED  per term: flags:u8 (bit 0: no map over 32
%%                               keys, so the bytes are deterministic), then
%%                               len:u32 + bytes of term_to_binary(T,
%%                               [{minor_version,2}]), of term_to_binary(T),
%%                               and of term_to_binary(T, [compressed])
%%   gen.erl seeds DIR           small files for the fuzzer's seed corpus
-mode(compile).

main(["corpus", File, NStr, SeedStr]) ->
    Seed = list_to_integer(SeedStr),
    rand:seed(exsss, {Seed, Seed * 7 + 1, Seed * 13 + 2}),
    setup(),
    Terms = fixed() ++ [gen(4) || _ <- lists:seq(1, list_to_integer(NStr))],
    ok = file:write_file(File, [record(T) || T <- Terms]),
    io:format("gen: ~b terms in ~s~n", [length(Terms), File]);
main(["seeds", Dir]) ->
    rand:seed(exsss, {1, 2, 3}),
    setup(),
    Small = [T || T <- fixed(), byte_size(term_to_binary(T)) < 2048]
        ++ [gen(3) || _ <- lists:seq(1, 40)],
    lists:foldl(fun(T, I) ->
                        Name = io_lib:format("~s/~3..0b.etf", [Dir, I]),
                        Opts = case I rem 5 of 0 -> [compressed]; 1 -> []; _ -> [{minor_version, 2}] end,
                        ok = file:write_file(Name, term_to_binary(T, Opts)),
                        I + 1
                end, 0, Small),
    io:format("gen: ~b seeds in ~s~n", [length(Small), Dir]);
main(_) ->
    io:format(standard_error, "usage: gen.erl corpus FILE N SEED | seeds DIR~n", []),
    halt(2).

record(T) ->
    Flags = case deterministic(T) of true -> 1; false -> 0 end,
    [Flags, lv(term_to_binary(T, [{minor_version, 2}])), lv(term_to_binary(T)),
     lv(term_to_binary(T, [compressed]))].

lv(B) -> [<<(byte_size(B)):32>>, B].

%% Maps over 32 keys are written in hash order: compare those by value only.
deterministic(M) when is_map(M) ->
    map_size(M) =< 32 andalso deterministic(maps:to_list(M));
deterministic(T) when is_tuple(T) -> deterministic(tuple_to_list(T));
deterministic([H | T]) -> deterministic(H) andalso deterministic(T);
deterministic(_) -> true.

%% Real pids, refs and ports of this node, kept for gen/1 to pick from.
setup() ->
    Port = open_port({spawn, "true"}, []),
    Pids = [self() | [spawn(fun() -> ok end) || _ <- lists:seq(1, 3)]],
    Refs = [make_ref(), alias(), erlang:monitor(process, self()) | [make_ref() || _ <- lists:seq(1, 3)]],
    put(local, {Pids, Refs, [Port | erlang:ports()]}).

%% --------------------------------------------------------------- edges --

fixed() ->
    Ints = [0, 1, 255, 256, -1, -255, -256, 2147483647, -2147483648, 2147483648,
            -2147483649, 1 bsl 32, (1 bsl 63) - 1, -(1 bsl 63), 1 bsl 63,
            -(1 bsl 63) - 1, (1 bsl 64) - 1, 1 bsl 64, -(1 bsl 64),
            (1 bsl 2040) - 1, 1 bsl 2040, (1 bsl 2048) - 1, -(1 bsl 2048), 1 bsl 20000],
    Floats = [0.0, -0.0, 1.0, -1.0, 0.1, 1.0e308, -1.0e308, 1.7976931348623157e308,
              5.0e-324, -5.0e-324, 2.2250738585072014e-308, 3.141592653589793, 1.0e-300],
    Atoms = ['', a, ok, true, 'nonode@nohost', 'hello world', 'with\'quote',
             list_to_atom([228, 246, 252]), list_to_atom([1000, 20013, 128512]),
             list_to_atom(lists:duplicate(255, $x)), list_to_atom(lists:duplicate(255, 255)),
             list_to_atom(lists:duplicate(255, 128512)), list_to_atom(lists:duplicate(86, 20013))],
    Bins = [<<>>, <<0>>, <<"bin">>, rand:bytes(255), rand:bytes(70000), rand:bytes(1 bsl 20),
            <<1:1>>, <<255, 3:2>>, <<1, 2, 3, 4:7>>, <<(rand:bytes(300))/binary, 5:3>>],
    Lists = [[], [[]], "a", "hello", lists:seq(0, 255), lists:duplicate(65535, $z),
             lists:duplicate(65536, $z), lists:seq(1, 100000), [256], [-1], [1 | 2], [a | b],
             [1, 2, 3 | "tail"], [[1, 2] | [3]], [<<>> | <<>>], [{} | #{}], "ünïcødé",
             [1000, 20013], lists:duplicate(70000, 300),
             [X || X <- lists:seq(1, 5000), _ <- [a]] ++ [a]],
    Tuples = [{}, {{}}, {a, 1}, list_to_tuple(lists:seq(1, 255)), list_to_tuple(lists:seq(1, 256)),
              list_to_tuple(lists:duplicate(70000, x))],
    Maps = [#{}, #{a => 1}, #{1 => a, 1.0 => b, 0.5 => c, 2 => d, -1 => e, 1 bsl 70 => f, -1.0e300 => g},
            maps:from_list([{K, K} || K <- lists:seq(1, 32)]),
            maps:from_list([{K, K} || K <- lists:seq(1, 33)]),
            maps:from_list([{integer_to_binary(K), K} || K <- lists:seq(1, 5000)]),
            #{[] => 1, [a] => 2, {} => 3, <<>> => 4, #{} => 5, a => 6, self() => 7, make_ref() => 8,
              1 => 9, 1.0 => 10, <<1:1>> => 11, "s" => 12}],
    Deep = [nest(1000, fun(X) -> [X] end, a), nest(1000, fun(X) -> {X} end, []),
            nest(900, fun(X) -> [X | 0] end, 0), nest(300, fun(X) -> #{X => k, a => 1} end, z), nest(300, fun(X) -> #{k => X} end, z),
            nest(500, fun(X) -> {a, [X, b], c} end, ok)],
    Remote = [pid('foo@bar', 1, 2, 3), pid('nonode@nohost', 5, 6, 7), pid('ŝnode@hôst', 1, 0, 0),
              pid('x@y', 32767, 8191, 16#ffffffff),
              ref('foo@bar', 9, [1]), ref('foo@bar', 9, [1, 2]), ref('foo@bar', 9, [1, 2, 3]), ref('foo@bar', 16#ffffffff, [5, 4, 3, 2, 1]),
              ref('nonode@nohost', 1, [1, 2, 3]),
              port('foo@bar', 42, 7), port('foo@bar', 1 bsl 40, 7), port('nonode@nohost', 3, 3)],
    {Pids, Refs, Ports} = get(local),
    Local = Pids ++ Refs ++ Ports ++ [list_to_pid("<0.32767.8191>"), list_to_pid("<0.0.0>")],
    Mixed = [{tag, 42, self()}, {'$gen_call', {self(), make_ref()}, {get, key}},
             {result, 16}, {'EXIT', self(), normal}, [{a, 1}, {b, <<"two">>}, {c, [3.0]}]],
    Ints ++ Floats ++ Atoms ++ Bins ++ Lists ++ Tuples ++ Maps ++ Deep ++ Remote ++ Local ++ Mixed.

nest(0, _, X) -> X;
nest(N, F, X) -> nest(N - 1, F, F(X)).

%% Remote pids, refs and ports, built from their external forms.
node_ext(Node) -> B = atom_to_binary(Node, utf8), <<119, (byte_size(B)), B/binary>>.
pid(Node, Id, Serial, Cr) ->
    binary_to_term(<<131, 88, (node_ext(Node))/binary, Id:32, Serial:32, Cr:32>>).
ref(Node, Cr, Ws) ->
    binary_to_term(<<131, 90, (length(Ws)):16, (node_ext(Node))/binary, Cr:32,
                     (<< <<W:32>> || W <- Ws >>)/binary>>).
port(Node, Id, Cr) when Id > 16#ffffffff ->
    binary_to_term(<<131, 120, (node_ext(Node))/binary, Id:64, Cr:32>>);
port(Node, Id, Cr) ->
    binary_to_term(<<131, 89, (node_ext(Node))/binary, Id:32, Cr:32>>).

%% -------------------------------------------------------------- random --

pick(L) -> lists:nth(rand:uniform(length(L)), L).
between(Lo, Hi) -> Lo + rand:uniform(Hi - Lo + 1) - 1.

gen(0) -> leaf();
gen(D) ->
    case rand:uniform(12) of
        1 -> list_to_tuple(elems(D));
        2 -> elems(D);
        3 -> elems(D) ++ leaf();
        4 -> maps:from_list([{gen(D - 1), gen(D - 1)} || _ <- elems(D)]);
        5 -> maps:from_list([{leaf(), leaf()} || _ <- lists:seq(1, between(30, 80))]);
        6 -> [gen(D - 1) | gen(D - 1)];
        _ -> leaf()
    end.

elems(D) -> [gen(D - 1) || _ <- lists:seq(1, rand:uniform(6) - 1)].

leaf() ->
    case rand:uniform(13) of
        1 -> int();
        2 -> int();
        3 -> float();
        4 -> atom();
        5 -> atom();
        6 -> bin();
        7 -> bits();
        8 -> string();
        9 -> pick([[], {}, #{}]);
        10 -> {Pids, Refs, Ports} = get(local), pick(Pids ++ Refs ++ Ports);
        11 -> pid(pick(['a@b', 'nonode@nohost', 'ŝ@h']), rand:uniform(32768) - 1,
                  rand:uniform(8192) - 1, rand:uniform(1 bsl 32) - 1);
        %% 3..5 words: OTP 25's binary_to_term builds broken large maps
        %% (over 32 keys) keyed by 1- or 2-word external refs
        12 -> ref(pick(['a@b', 'nonode@nohost']), rand:uniform(1 bsl 32) - 1,
                  [rand:uniform(1 bsl 32) - 1 || _ <- lists:seq(1, between(3, 5))]);
        13 -> port(pick(['a@b', 'c@d']), pick([rand:uniform(1 bsl 32) - 1, rand:uniform(1 bsl 60)]),
                   rand:uniform(1 bsl 32) - 1)
    end.

int() ->
    case rand:uniform(6) of
        1 -> rand:uniform(256) - 1;
        2 -> -rand:uniform(1 bsl 31);
        3 -> rand:uniform(1 bsl 64) - (1 bsl 63) - 1;
        4 -> (1 bsl between(30, 70)) + between(-3, 3);
        5 -> (rand:uniform(1 bsl between(1, 2100))) * pick([1, -1]);
        6 -> -(1 bsl between(30, 70)) + between(-3, 3)
    end.

float() ->
    case rand:uniform(4) of
        1 -> pick([0.0, -0.0, 1.0e308, -1.0e308, 5.0e-324, 0.5, 2.0]);
        2 -> (rand:uniform() - 0.5) * math:pow(10, between(-300, 300));
        3 -> float(rand:uniform(1000000));
        4 -> <<F/float>> = <<(between(0, 16#7fe)):12, (rand:uniform(1 bsl 52) - 1):52>>, F
    end.

atom() ->
    Chars = case rand:uniform(5) of
                1 -> [between($a, $z) || _ <- lists:seq(1, between(1, 12))];
                2 -> [between(0, 255) || _ <- lists:seq(1, between(0, 20))];
                3 -> [between(256, 16#d7ff) || _ <- lists:seq(1, between(1, 10))];
                4 -> [between(16#10000, 16#10ffff) || _ <- lists:seq(1, between(1, 70))];
                5 -> [between(32, 126) || _ <- lists:seq(1, between(200, 255))]
            end,
    list_to_atom(Chars).

bin() -> rand:bytes(pick([0, 1, between(2, 64), between(65, 4000)])).

bits() -> B = between(1, 7), <<(bin())/binary, (rand:uniform(1 bsl B) - 1):B>>.

string() ->
    case rand:uniform(3) of
        1 -> [between(0, 255) || _ <- lists:seq(1, between(1, 100))];
        2 -> [between(32, 126) || _ <- lists:seq(1, between(1, 30))];
        3 -> [between(0, 16#d7ff) || _ <- lists:seq(1, between(1, 30))]
    end.
