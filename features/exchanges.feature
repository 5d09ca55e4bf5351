Feature: Exchanges
  In order to keep customers happy when something does not fit
  As a store owner
  I want to swap an item for another and keep both stock levels right

  Background:
    Given the store sells these products:
      | sku      | name    | colour | size | price | stock |
      | SWT-BK-M | sweater | black  | M    | 40.00 | 3     |
      | SWT-BK-L | sweater | black  | L    | 40.00 | 2     |
      | SWT-RD-M | sweater | red    | M    | 45.00 | 0     |
      | JKT-GR-M | jacket  | green  | M    | 95.00 | 1     |
      | HAT-GR   | hat     | grey   |      | 15.00 | 6     |
    And a customer previously bought a SWT-BK-M from me

  @api
  Scenario: Exchanging a sweater for a larger size
    When he exchanges the SWT-BK-M for a SWT-BK-L
    Then the stock of SWT-BK-M should be 4
    And the stock of SWT-BK-L should be 1
    And no money should change hands

  @api
  Scenario: Exchanging for something dearer costs the difference
    When he exchanges the SWT-BK-M for a JKT-GR-M
    Then he should pay £55.00 more
    And the stock of JKT-GR-M should be 0

  @api
  Scenario: Exchanging for something cheaper refunds the difference
    When he exchanges the SWT-BK-M for a HAT-GR
    Then he should be refunded £25.00
    And the stock of HAT-GR should be 5

  @api
  Scenario: An exchange for something out of stock is refused
    When he exchanges the SWT-BK-M for a SWT-RD-M
    Then the store should refuse with "red sweater (M) is out of stock"
    And the stock of SWT-BK-M should be 3
    And the stock of SWT-RD-M should be 0

  @api
  Scenario: What a customer got in an exchange can be returned too
    Given he exchanged the SWT-BK-M for a SWT-BK-L
    When he returns the SWT-BK-L for a refund
    Then he should be refunded £40.00
    And the stock of SWT-BK-L should be 2

  @browser
  Scenario: Exchanging at the till
    When he exchanges the SWT-BK-M for a SWT-BK-L
    Then the return should be confirmed with "Exchanged 1 × black sweater (M) for black sweater (L)"
    And the stock of SWT-BK-M should be 4
    And the stock of SWT-BK-L should be 1

  @api
  Scenario Outline: An exchange settles the price difference either way
    When he exchanges the SWT-BK-M for a <replacement>
    Then the customer's balance for the exchange should be <balance>

    Examples:
      | replacement | balance          |
      | SWT-BK-L    | nothing          |
      | JKT-GR-M    | pays £55.00      |
      | HAT-GR      | gets £25.00 back |

  @browser
  Scenario Outline: The till says how an exchange was settled
    When he exchanges the SWT-BK-M for a <replacement>
    Then the return should be confirmed with "<confirmation>"
    And the stock of SWT-BK-M should be 4

    Examples:
      | replacement | confirmation                                           |
      | SWT-BK-L    | Exchanged 1 × black sweater (M) for black sweater (L). |
      | JKT-GR-M    | customer pays £55.00                                   |
      | HAT-GR      | refunded £25.00                                        |
