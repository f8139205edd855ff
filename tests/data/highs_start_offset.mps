*SENSE:Maximize
NAME          master
ROWS
 N  OBJ
 L  one_obstacle_0
 L  one_obstacle_1
 L  one_obstacle_2
 L  one_obstacle_3
 L  one_sensor_4
 L  one_sensor_5
 L  budget_pooled
 L  obs_x_7
 L  obs_y_8
 L  obs_x_9
 L  obs_y_10
 L  obs_x_11
 L  obs_y_12
 L  obs_x_13
 L  obs_y_14
 L  obs_x_15
 L  obs_y_16
 L  obs_x_17
 L  obs_y_18
 L  obs_x_19
 L  obs_y_20
 E  eta_minutes_21
 E  eta_minutes_22
 L  route_delay_23
 L  route_delay_24
 L  route_delay_25
 L  route_delay_26
 L  eta_bound_27
 L  eta_bound_28
 L  route_delay_29
 L  route_delay_30
 G  optimum_floor_31
COLUMNS
    eta_0     eta_minutes_21   6.000000000000e+01
    eta_0     route_delay_23   1.000000000000e+00
    eta_0     route_delay_24   1.000000000000e+00
    eta_0     eta_bound_27   1.000000000000e+00
    eta_0     route_delay_29   1.000000000000e+00
    eta_0     optimum_floor_31   3.000000000000e+00
    eta_1     eta_minutes_22   6.000000000000e+01
    eta_1     route_delay_25   1.000000000000e+00
    eta_1     route_delay_26   1.000000000000e+00
    eta_1     eta_bound_28   1.000000000000e+00
    eta_1     route_delay_30   1.000000000000e+00
    eta_1     optimum_floor_31   4.000000000000e+00
    MARK      'MARKER'                 'INTORG'
    eta_min_0  eta_minutes_21  -1.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    eta_min_1  eta_minutes_22  -1.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    x_0       one_obstacle_0   1.000000000000e+00
    x_0       budget_pooled   3.000000000000e+00
    x_0       obs_x_7   -1.000000000000e+00
    x_0       OBJ       -3.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    x_1       one_obstacle_0   1.000000000000e+00
    x_1       budget_pooled   2.000000000000e+00
    x_1       obs_x_9   -1.000000000000e+00
    x_1       OBJ       -2.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    x_2       one_obstacle_1   1.000000000000e+00
    x_2       budget_pooled   5.000000000000e+00
    x_2       obs_x_11  -1.000000000000e+00
    x_2       route_delay_23  -5.000000000000e-02
    x_2       route_delay_25  -5.000000000000e-02
    x_2       route_delay_29  -5.000000000000e-02
    x_2       route_delay_30  -5.000000000000e-02
    x_2       OBJ       -5.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    x_3       one_obstacle_1   1.000000000000e+00
    x_3       budget_pooled   5.000000000000e+00
    x_3       obs_x_13  -1.000000000000e+00
    x_3       route_delay_23  -1.666666666667e-02
    x_3       route_delay_25  -1.666666666667e-02
    x_3       route_delay_29  -1.666666666667e-02
    x_3       route_delay_30  -1.666666666667e-02
    x_3       OBJ       -5.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    x_4       one_obstacle_2   1.000000000000e+00
    x_4       budget_pooled   1.000000000000e+00
    x_4       route_delay_23  -9.700000000000e+00
    x_4       route_delay_25  -9.666666666667e+00
    x_4       OBJ       -1.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    x_5       one_obstacle_2   1.000000000000e+00
    x_5       budget_pooled   5.000000000000e+00
    x_5       obs_x_15  -1.000000000000e+00
    x_5       route_delay_23  -1.666666666667e-02
    x_5       route_delay_25  -1.666666666667e-02
    x_5       OBJ       -5.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    x_6       one_obstacle_3   1.000000000000e+00
    x_6       budget_pooled   1.000000000000e+00
    x_6       obs_x_17  -1.000000000000e+00
    x_6       route_delay_25  -1.666666666667e-02
    x_6       OBJ       -1.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    x_7       one_obstacle_3   1.000000000000e+00
    x_7       budget_pooled   1.000000000000e+00
    x_7       obs_x_19  -1.000000000000e+00
    x_7       route_delay_25  -6.666666666667e-02
    x_7       OBJ       -1.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    y_0       one_sensor_4   1.000000000000e+00
    y_0       budget_pooled   3.000000000000e+00
    y_0       obs_y_8   -1.000000000000e+00
    y_0       obs_y_10  -1.000000000000e+00
    y_0       obs_y_12  -1.000000000000e+00
    y_0       obs_y_14  -1.000000000000e+00
    y_0       obs_y_16  -1.000000000000e+00
    y_0       obs_y_18  -1.000000000000e+00
    y_0       obs_y_20  -1.000000000000e+00
    y_0       OBJ       -3.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    y_1       one_sensor_4   1.000000000000e+00
    y_1       budget_pooled   2.000000000000e+00
    y_1       obs_y_8   -1.000000000000e+00
    y_1       obs_y_10  -1.000000000000e+00
    y_1       obs_y_12  -1.000000000000e+00
    y_1       obs_y_14  -1.000000000000e+00
    y_1       obs_y_16  -1.000000000000e+00
    y_1       OBJ       -2.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    y_2       one_sensor_5   1.000000000000e+00
    y_2       budget_pooled   2.000000000000e+00
    y_2       obs_y_8   -1.000000000000e+00
    y_2       obs_y_10  -1.000000000000e+00
    y_2       obs_y_12  -1.000000000000e+00
    y_2       obs_y_14  -1.000000000000e+00
    y_2       OBJ       -2.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    MARK      'MARKER'                 'INTORG'
    y_3       one_sensor_5   1.000000000000e+00
    y_3       budget_pooled   4.000000000000e+00
    y_3       obs_y_12  -1.000000000000e+00
    y_3       obs_y_14  -1.000000000000e+00
    y_3       obs_y_16  -1.000000000000e+00
    y_3       OBJ       -4.000000000000e+00
    MARK      'MARKER'                 'INTEND'
    z_0       obs_x_7    1.000000000000e+00
    z_0       obs_y_8    1.000000000000e+00
    z_1       obs_x_9    1.000000000000e+00
    z_1       obs_y_10   1.000000000000e+00
    z_2       obs_x_11   1.000000000000e+00
    z_2       obs_y_12   1.000000000000e+00
    z_2       route_delay_23  -5.000000000000e-02
    z_2       route_delay_25  -5.000000000000e-02
    z_2       route_delay_29  -5.000000000000e-02
    z_2       route_delay_30  -5.000000000000e-02
    z_3       obs_x_13   1.000000000000e+00
    z_3       obs_y_14   1.000000000000e+00
    z_3       route_delay_23  -1.333333333333e-01
    z_3       route_delay_25  -1.333333333333e-01
    z_3       route_delay_29  -1.333333333333e-01
    z_3       route_delay_30  -1.333333333333e-01
    z_4       obs_x_15   1.000000000000e+00
    z_4       obs_y_16   1.000000000000e+00
    z_4       route_delay_23  -1.166666666667e-01
    z_4       route_delay_25  -1.166666666667e-01
    z_5       obs_x_17   1.000000000000e+00
    z_5       obs_y_18   1.000000000000e+00
    z_5       route_delay_25  -1.000000000000e-01
    z_6       obs_x_19   1.000000000000e+00
    z_6       obs_y_20   1.000000000000e+00
    z_6       route_delay_25  -3.333333333333e-02
RHS
    RHS       one_obstacle_0   1.000000000000e+00
    RHS       one_obstacle_1   1.000000000000e+00
    RHS       one_obstacle_2   1.000000000000e+00
    RHS       one_obstacle_3   1.000000000000e+00
    RHS       one_sensor_4   1.000000000000e+00
    RHS       one_sensor_5   1.000000000000e+00
    RHS       budget_pooled   1.000000000000e+01
    RHS       obs_x_7    0.000000000000e+00
    RHS       obs_y_8    0.000000000000e+00
    RHS       obs_x_9    0.000000000000e+00
    RHS       obs_y_10   0.000000000000e+00
    RHS       obs_x_11   0.000000000000e+00
    RHS       obs_y_12   0.000000000000e+00
    RHS       obs_x_13   0.000000000000e+00
    RHS       obs_y_14   0.000000000000e+00
    RHS       obs_x_15   0.000000000000e+00
    RHS       obs_y_16   0.000000000000e+00
    RHS       obs_x_17   0.000000000000e+00
    RHS       obs_y_18   0.000000000000e+00
    RHS       obs_x_19   0.000000000000e+00
    RHS       obs_y_20   0.000000000000e+00
    RHS       eta_minutes_21   0.000000000000e+00
    RHS       eta_minutes_22   0.000000000000e+00
    RHS       route_delay_23   3.000000000000e-01
    RHS       route_delay_24   4.833333333333e-01
    RHS       route_delay_25   3.333333333333e-01
    RHS       route_delay_26   4.500000000000e-01
    RHS       eta_bound_27   6.388888898889e-01
    RHS       eta_bound_28   5.875000010000e-01
    RHS       route_delay_29   4.166666666667e-01
    RHS       route_delay_30   3.833333333333e-01
    RHS       optimum_floor_31   3.249996749000e+00
BOUNDS
 UP BND       eta_0      1.000000000000e+01
 UP BND       eta_1      1.000000000000e+01
 UP BND       eta_min_0   6.000000000000e+02
 UP BND       eta_min_1   6.000000000000e+02
 BV BND       x_0     
 BV BND       x_1     
 BV BND       x_2     
 BV BND       x_3     
 BV BND       x_4     
 BV BND       x_5     
 BV BND       x_6     
 BV BND       x_7     
 BV BND       y_0     
 BV BND       y_1     
 BV BND       y_2     
 BV BND       y_3     
 UP BND       z_0        1.000000000000e+00
 UP BND       z_1        1.000000000000e+00
 UP BND       z_2        1.000000000000e+00
 UP BND       z_3        1.000000000000e+00
 UP BND       z_4        1.000000000000e+00
 UP BND       z_5        1.000000000000e+00
 UP BND       z_6        1.000000000000e+00
ENDATA
